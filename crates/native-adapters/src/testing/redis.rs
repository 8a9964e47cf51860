//! [`TestRedis`]: the machine's Redis, with private channels and real subscribers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// The Redis that tests use. Override with `SPINDLE_TEST_REDIS_URL`.
const DEFAULT_URL: &str = "redis://127.0.0.1:6379";

/// How often the listening thread looks up from the socket to see whether its
/// [`Subscription`] was dropped.
const POLL: Duration = Duration::from_millis(50);

/// How long [`TestRedis::subscribe`] waits for Redis to confirm the subscription.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The machine's Redis, for tests.
///
/// Pub/sub has no per-test isolation (every subscriber hears every message on a
/// channel), so tests should publish on a [`TestRedis::unique_channel`].
#[derive(Debug, Clone)]
pub struct TestRedis {
    url: String,
}

impl TestRedis {
    pub fn new() -> TestRedis {
        let url = std::env::var("SPINDLE_TEST_REDIS_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| DEFAULT_URL.to_owned());
        TestRedis { url }
    }

    /// The Redis address, for a publisher under test.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A channel name no other test uses: `<prefix>-<random hex>`.
    pub fn unique_channel(&self, prefix: &str) -> String {
        format!("{prefix}-{}", super::random_suffix())
    }

    /// Subscribes to `channel` (a real `SUBSCRIBE`, like Spin's Redis trigger). When
    /// this returns, Redis has confirmed the subscription, so anything published from
    /// now on is received.
    pub fn subscribe(&self, channel: &str) -> Subscription {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (messages_tx, messages) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let listener = {
            let (url, channel, stop) = (self.url.clone(), channel.to_owned(), stop.clone());
            std::thread::spawn(move || listen(&url, &channel, &stop, &ready_tx, &messages_tx))
        };
        match ready_rx.recv_timeout(SUBSCRIBE_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => panic!(
                "cannot subscribe to {channel:?} on the test Redis ({reason}); start Redis \
                 or point SPINDLE_TEST_REDIS_URL at one"
            ),
            Err(_) => panic!("Redis did not confirm the subscription to {channel:?} in time"),
        }
        Subscription {
            messages,
            stop,
            listener: Some(listener),
        }
    }
}

impl Default for TestRedis {
    fn default() -> Self {
        TestRedis::new()
    }
}

/// Runs on the listening thread: subscribes, reports readiness, then forwards
/// payloads until the [`Subscription`] is dropped or the connection fails.
fn listen(
    url: &str,
    channel: &str,
    stop: &AtomicBool,
    ready: &mpsc::Sender<Result<(), String>>,
    messages: &mpsc::Sender<Vec<u8>>,
) {
    let mut connection = match connect(url) {
        Ok(connection) => connection,
        Err(reason) => {
            let _ = ready.send(Err(reason));
            return;
        }
    };
    let mut pubsub = connection.as_pubsub();
    // `subscribe` waits for Redis's confirmation before returning.
    let subscribed = pubsub
        .subscribe(channel)
        .and_then(|()| pubsub.set_read_timeout(Some(POLL)))
        .map_err(|err| err.to_string());
    let failed = subscribed.is_err();
    if ready.send(subscribed).is_err() || failed {
        return;
    }
    while !stop.load(Ordering::SeqCst) {
        match pubsub.get_message() {
            Ok(message) => {
                if messages.send(message.get_payload_bytes().to_vec()).is_err() {
                    return;
                }
            }
            Err(err) if err.is_timeout() => {}
            Err(_) => return,
        }
    }
}

fn connect(url: &str) -> Result<redis::Connection, String> {
    redis::Client::open(url)
        .and_then(|client| client.get_connection_with_timeout(SUBSCRIBE_TIMEOUT))
        .map_err(|err| err.to_string())
}

/// The payloads published on one channel since [`TestRedis::subscribe`] returned.
/// Dropping it unsubscribes.
#[derive(Debug)]
pub struct Subscription {
    messages: Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
    listener: Option<JoinHandle<()>>,
}

impl Subscription {
    /// The next payload, waiting at most `timeout`; `None` if nothing arrived.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Vec<u8>> {
        self.messages.recv_timeout(timeout).ok()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(listener) = self.listener.take() {
            let _ = listener.join();
        }
    }
}
