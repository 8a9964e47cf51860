//! [`serve_http`]: a handler behind a real HTTP/1.1 server on loopback, for tests that
//! drive an endpoint the way a client on the network does.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};

use super::receiver::read_request;

/// Serves `handler` on `127.0.0.1:<random port>` while `client` runs with the
/// server's base URL (`http://127.0.0.1:<port>`), then stops the server and returns
/// what `client` returned. The handler may borrow the test's state: it runs on
/// scoped threads, one per connection (keep-alive supported).
pub fn serve_http<H, C, T>(handler: H, client: C) -> T
where
    H: Fn(http::Request<Vec<u8>>) -> http::Response<Vec<u8>> + Sync,
    C: FnOnce(&str) -> T,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("the bound address");
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (handler, stop) = (&handler, &stop);
        scope.spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    scope.spawn(move || serve_connection(stream, handler, stop));
                }
            }
        });
        let result = client(&format!("http://{addr}"));
        stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(addr);
        result
    })
}

fn serve_connection<H>(stream: TcpStream, handler: &H, stop: &AtomicBool)
where
    H: Fn(http::Request<Vec<u8>>) -> http::Response<Vec<u8>>,
{
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(200)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(received) = read_request(&mut reader, stop) {
        let mut builder = http::Request::builder()
            .method(received.method.as_str())
            .uri(received.target.as_str());
        for (name, value) in &received.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let response = match builder.body(received.body) {
            Ok(request) => handler(request),
            Err(_) => http::Response::builder()
                .status(400)
                .body(Vec::new())
                .unwrap_or_default(),
        };
        let mut head = format!("HTTP/1.1 {}\r\n", response.status());
        for (name, value) in response.headers() {
            if name != http::header::CONTENT_LENGTH {
                head.push_str(&format!(
                    "{name}: {}\r\n",
                    String::from_utf8_lossy(value.as_bytes())
                ));
            }
        }
        head.push_str(&format!(
            "content-length: {}\r\n\r\n",
            response.body().len()
        ));
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(response.body()).is_err()
        {
            return;
        }
    }
}
