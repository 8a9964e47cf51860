//! Message encryption for Web Push (RFC 8291) in the `aes128gcm` content coding (RFC 8188):
//! one record, a fresh salt and a fresh ephemeral key pair for every message.
//!
//! Only the composition is written here; ECDH, HKDF and AES-GCM are RustCrypto's.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::SecretKey;
use sha2::Sha256;

use crate::ClientKeys;

/// The record size written in the header. One record carries the whole message, so it
/// only has to exceed the record (RFC 8291 §4); 4096 is what browsers and RFC 8291's
/// example use.
pub const RECORD_SIZE: u32 = 4096;

/// The longest plaintext a push service must accept: 4096 bytes of body less the header
/// (86), the padding delimiter (1) and the AEAD tag (16) (RFC 8291 §4).
pub const MAX_PLAINTEXT_LEN: usize = 3993;

/// `salt (16) || rs (4) || idlen (1) || keyid (the sender's 65-byte public key)`.
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
const TAG_LEN: usize = 16;

/// The delimiter that ends the last (here: only) record's plaintext (RFC 8188 §2).
const LAST_RECORD_DELIMITER: u8 = 0x02;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptError {
    #[error("the push message is {len} bytes; push services take at most {MAX_PLAINTEXT_LEN} bytes, so shorten the title or body")]
    TooLong { len: usize },
    #[error("the system's random number source failed: {0}")]
    Random(String),
}

/// Encrypts `plaintext` for the browser holding `keys`, with a fresh salt and ephemeral key.
pub fn encrypt(plaintext: &[u8], keys: &ClientKeys) -> Result<Vec<u8>, EncryptError> {
    let mut salt = [0u8; 16];
    fill_random(&mut salt)?;
    encrypt_with(plaintext, keys, &ephemeral_key()?, &salt)
}

/// [`encrypt`] with the sender's key pair and the salt given: deterministic, for checking
/// against RFC 8291's worked example. Never reuse a key and salt for a second message.
pub fn encrypt_with(
    plaintext: &[u8],
    keys: &ClientKeys,
    sender: &SecretKey,
    salt: &[u8; 16],
) -> Result<Vec<u8>, EncryptError> {
    if plaintext.len() > MAX_PLAINTEXT_LEN {
        return Err(EncryptError::TooLong {
            len: plaintext.len(),
        });
    }
    let sender_public = sender.public_key().to_encoded_point(false);
    let receiver_public = keys.p256dh().to_encoded_point(false);

    // RFC 8291 §3.3-3.4: the input keying material combines the ECDH secret with the
    // subscription's authentication secret and both public keys.
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), keys.p256dh().as_affine());
    let key_info = [
        b"WebPush: info\0".as_slice(),
        receiver_public.as_bytes(),
        sender_public.as_bytes(),
    ]
    .concat();
    let mut ikm = [0u8; 32];
    expand(
        &Hkdf::<Sha256>::new(Some(keys.auth()), shared.raw_secret_bytes()),
        &key_info,
        &mut ikm,
    );

    // RFC 8188 §2.2-2.3: content-encryption key and nonce from the salt; the nonce of
    // the first (only) record is the derived nonce itself (sequence number 0).
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    expand(&prk, b"Content-Encoding: aes128gcm\0", &mut cek);
    let mut nonce = [0u8; 12];
    expand(&prk, b"Content-Encoding: nonce\0", &mut nonce);

    let mut body = Vec::with_capacity(HEADER_LEN + plaintext.len() + 1 + TAG_LEN);
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    // The key id is the sender's public key (RFC 8291 §4), 65 bytes.
    body.push(sender_public.len() as u8);
    body.extend_from_slice(sender_public.as_bytes());

    let mut record = Vec::with_capacity(plaintext.len() + 1 + TAG_LEN);
    record.extend_from_slice(plaintext);
    record.push(LAST_RECORD_DELIMITER);
    Aes128Gcm::new(&cek.into())
        .encrypt_in_place(&nonce.into(), b"", &mut record)
        // Only a record longer than AES-GCM's limit (64 GiB) can fail; ours is < 4 KiB.
        .map_err(|_| EncryptError::TooLong {
            len: plaintext.len(),
        })?;
    body.extend_from_slice(&record);
    Ok(body)
}

/// HKDF-Expand to at most 32 bytes, which SHA-256 always provides.
fn expand(hkdf: &Hkdf<Sha256>, info: &[u8], out: &mut [u8]) {
    hkdf.expand(info, out)
        .expect("HKDF-SHA-256 yields up to 8160 bytes; at most 32 are asked for");
}

pub(crate) fn fill_random(bytes: &mut [u8]) -> Result<(), EncryptError> {
    getrandom::fill(bytes).map_err(|e| EncryptError::Random(e.to_string()))
}

/// A uniformly random P-256 private key: 32 random bytes, drawn again in the (2^-32)
/// case that they are zero or not below the group order.
pub(crate) fn ephemeral_key() -> Result<SecretKey, EncryptError> {
    loop {
        let mut bytes = [0u8; 32];
        fill_random(&mut bytes)?;
        if let Ok(key) = SecretKey::from_bytes(&bytes.into()) {
            return Ok(key);
        }
    }
}
