//! `spindle-vapid-keys`
//!
//! Generates a VAPID key pair (RFC 8292) for Web Push and prints it as two lines:
//!
//! ```text
//! vapid_private_key=<base64url of the 32-byte P-256 private key>
//! vapid_public_key=<base64url of the uncompressed public point>
//! ```
//!
//! The private key goes into the `vapid_private_key` Spin variable (a secret); the public
//! key is what `GET /api/push/vapid-public-key` serves to browsers. `scripts/dev.sh` runs
//! this once for the local secrets file.

use std::process::ExitCode;

use spindle_webpush::VapidKey;

const USAGE: &str = "usage: spindle-vapid-keys

Prints a new VAPID key pair for Web Push: the line vapid_private_key=... (the value of
the vapid_private_key Spin variable, keep it secret) and vapid_public_key=... (the
browser's applicationServerKey, also served at GET /api/push/vapid-public-key).";

fn main() -> ExitCode {
    if let Some(arg) = std::env::args().nth(1) {
        let help = arg == "-h" || arg == "--help";
        if !help {
            eprintln!("spindle-vapid-keys: unexpected argument {arg:?}\n");
        }
        eprintln!("{USAGE}");
        return if help {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        };
    }
    match VapidKey::generate() {
        Ok(key) => {
            println!("vapid_private_key={}", key.private_base64url());
            println!("vapid_public_key={}", key.public_key());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("spindle-vapid-keys: {err}");
            ExitCode::FAILURE
        }
    }
}
