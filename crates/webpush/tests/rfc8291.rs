//! RFC 8291 Appendix A: the worked example, reproduced byte for byte from its keys and salt.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use spindle_webpush::p256::elliptic_curve::sec1::ToEncodedPoint;
use spindle_webpush::p256::SecretKey;
use spindle_webpush::{encrypt_with, ClientKeys, RECORD_SIZE};

const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
const AS_PUBLIC: &str =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
const UA_PUBLIC: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
const MESSAGE: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

fn decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .expect("the RFC's values are base64url")
}

fn secret(text: &str) -> SecretKey {
    SecretKey::from_slice(&decode(text)).expect("the RFC's private keys are valid")
}

#[test]
fn the_example_keys_are_the_pairs_the_rfc_says() {
    for (private, public) in [(AS_PRIVATE, AS_PUBLIC), (UA_PRIVATE, UA_PUBLIC)] {
        let derived = secret(private).public_key().to_encoded_point(false);
        assert_eq!(URL_SAFE_NO_PAD.encode(derived.as_bytes()), public);
    }
}

#[test]
fn encrypting_the_example_with_its_keys_and_salt_gives_the_rfc_message_byte_for_byte() {
    let keys = ClientKeys::new(
        ClientKeys::parse_p256dh(UA_PUBLIC).unwrap(),
        ClientKeys::parse_auth(AUTH).unwrap(),
    );
    let salt: [u8; 16] = decode(SALT).try_into().unwrap();
    let body = encrypt_with(PLAINTEXT.as_bytes(), &keys, &secret(AS_PRIVATE), &salt).unwrap();
    assert_eq!(RECORD_SIZE, 4096, "the example's header says rs = 4096");
    assert_eq!(body, decode(MESSAGE));
}
