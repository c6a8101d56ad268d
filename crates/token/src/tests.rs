use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use natter_proto::token::{MESSAGE_TOKEN_AUDIENCE, TOKEN_ISSUER, TokenClaims};

use crate::{TokenError, TokenSigner, TokenVerifier};

fn verifier_for(signer: &TokenSigner) -> TokenVerifier {
    let verifier = TokenVerifier::new();
    // Round-trip through JSON, as a message pod receives the JWKS over HTTP.
    let json = serde_json::to_string(signer.jwks()).unwrap();
    verifier.set_keys(&serde_json::from_str(&json).unwrap());
    verifier
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn issued_token_verifies_and_carries_the_member() {
    let signer = TokenSigner::generate(Duration::from_secs(60));
    let claims = verifier_for(&signer).verify(&signer.issue(42, "Alice")).unwrap();
    assert_eq!(claims.member_id(), Some(42));
    assert_eq!(claims.name, "Alice");
}

#[test]
fn same_seed_gives_same_kid_so_web_pods_agree() {
    let a = TokenSigner::from_seed(&[7; 32], Duration::from_secs(60));
    let b = TokenSigner::from_seed(&[7; 32], Duration::from_secs(60));
    assert_eq!(a.kid(), b.kid());
    assert!(verifier_for(&a).verify(&b.issue(1, "x")).is_ok());
}

#[test]
fn refuses_expired_forged_wrong_audience_and_alg_none() {
    let signer = TokenSigner::generate(Duration::from_secs(60));
    let verifier = verifier_for(&signer);
    let claims = |aud: &str, exp: u64| TokenClaims {
        sub: "1".into(),
        name: "x".into(),
        aud: aud.into(),
        iss: TOKEN_ISSUER.into(),
        iat: now(),
        exp,
    };
    let expired = signer.sign(&claims(MESSAGE_TOKEN_AUDIENCE, now() - 120));
    assert_eq!(verifier.verify(&expired), Err(TokenError::Expired));

    let wrong_aud = signer.sign(&claims("someone-else", now() + 60));
    assert_eq!(verifier.verify(&wrong_aud), Err(TokenError::Invalid));

    // A different key that claims the trusted key's kid.
    let impostor = TokenSigner::generate(Duration::from_secs(60));
    let good = impostor.issue(1, "x");
    let mut parts: Vec<&str> = good.split('.').collect();
    let header = format!(r#"{{"alg":"EdDSA","kid":"{}"}}"#, signer.kid());
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
    parts[0] = &header;
    assert_eq!(verifier.verify(&parts.join(".")), Err(TokenError::Invalid));

    let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, signer.kid()));
    let forged_none = format!("{none_header}.{}.", good.split('.').nth(1).unwrap());
    assert!(verifier.verify(&forged_none).is_err());

    assert_eq!(verifier.verify(&impostor.issue(1, "x")), Err(TokenError::UnknownKey));
    assert_eq!(verifier.verify("not-a-token"), Err(TokenError::Malformed));
}

#[test]
fn rotation_keeps_tokens_of_the_previous_key_valid() {
    let old = TokenSigner::from_seed(&[1; 32], Duration::from_secs(60));
    let issued_before = old.issue(5, "eve");
    let old_x = serde_json::to_value(old.jwks()).unwrap()["keys"][0]["x"].as_str().unwrap().to_owned();
    let new = TokenSigner::from_seed(&[2; 32], Duration::from_secs(60))
        .with_previous_keys([old_x.as_str()])
        .unwrap();
    assert_eq!(new.jwks().keys.len(), 2, "both keys are published");
    let verifier = verifier_for(&new);
    assert_eq!(verifier.verify(&issued_before).unwrap().member_id(), Some(5), "old tokens still verify");
    assert!(verifier.verify(&new.issue(6, "eve")).is_ok(), "new tokens verify");
    assert_ne!(TokenVerifier::key_id(&new.issue(6, "eve")).unwrap(), old.kid(), "only the new key signs");
    assert!(TokenSigner::generate(Duration::from_secs(1)).with_previous_keys(["not-a-key"]).is_err());
}
