//! An OpenID provider the tests control, to make it answer as no certified provider would:
//! a tampered ID token, a wrong nonce, an expired token, a key it does not publish, a rotated
//! key. (The browser specs sign in through a real one, `oidc-provider`.) It checks what a
//! provider must: the client's secret and the PKCE verifier.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "runway";
pub const CLIENT_SECRET: &str = "test-client-secret";

/// How the next ID token is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Forge {
    Honest,
    /// Its claims changed after signing (someone made themselves an administrator's team).
    Tampered,
    WrongNonce,
    Expired,
    /// Signed with key `b`, whether or not the provider publishes it.
    KeyB,
}

#[derive(Debug, Clone)]
pub struct Person {
    pub sub: &'static str,
    pub username: &'static str,
    pub name: &'static str,
    pub groups: Vec<&'static str>,
}

struct Grant {
    challenge: String,
    nonce: String,
    person: Person,
    forge: Forge,
}

#[derive(Default)]
struct Inner {
    /// Key ids the provider publishes (`a`, `b`).
    published: Vec<&'static str>,
    codes: HashMap<String, Grant>,
}

#[derive(Clone)]
pub struct Idp {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

fn key(kid: &str) -> CoreRsaPrivateSigningKey {
    let pem = match kid {
        "a" => include_str!("fixtures/idp-test-key-a.pem"),
        _ => include_str!("fixtures/idp-test-key-b.pem"),
    };
    CoreRsaPrivateSigningKey::from_pem(pem, Some(JsonWebKeyId::new(kid.to_owned()))).expect("key")
}

impl Idp {
    pub async fn start() -> Idp {
        let inner = Arc::new(Mutex::new(Inner {
            published: vec!["a"],
            ..Inner::default()
        }));
        // The issuer is the base address, known once the port is: routes read it from a cell.
        let base = Arc::new(std::sync::OnceLock::<String>::new());
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state((inner.clone(), base.clone()));
        let address = crate::helpers::serve(router).await;
        base.set(address.clone()).expect("base");
        Idp {
            base: address,
            inner,
        }
    }

    /// The keys the provider publishes from now on.
    pub fn publish(&self, kids: &[&'static str]) {
        self.inner.lock().expect("idp").published = kids.to_vec();
    }

    /// What the portal sent the browser to, and the code the provider hands back for it.
    pub fn authorize(&self, location: &str, person: &Person, forge: Forge) -> (String, String) {
        let query = location.split_once('?').expect("query").1;
        let q: HashMap<String, String> = serde_urlencoded::from_str(query).expect("query");
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256", "PKCE asked for");
        assert!(q["scope"].split(' ').any(|s| s == "openid"), "{query}");
        let code = format!("code-{}", self.inner.lock().expect("idp").codes.len());
        self.inner.lock().expect("idp").codes.insert(
            code.clone(),
            Grant {
                challenge: q["code_challenge"].clone(),
                nonce: q["nonce"].clone(),
                person: person.clone(),
                forge,
            },
        );
        let back = format!(
            "{}?{}",
            q["redirect_uri"],
            serde_urlencoded::to_string([("code", code.as_str()), ("state", &q["state"])])
                .expect("query")
        );
        (back, q["state"].clone())
    }
}

type Shared = (Arc<Mutex<Inner>>, Arc<std::sync::OnceLock<String>>);

async fn discovery(State((_, base)): State<Shared>) -> Json<Value> {
    let base = base.get().expect("base");
    Json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State((inner, _)): State<Shared>) -> Json<Value> {
    let published = inner.lock().expect("idp").published.clone();
    let keys: Vec<Value> = published
        .iter()
        .map(|kid| serde_json::to_value(key(kid).as_verification_key()).expect("jwk"))
        .collect();
    Json(json!({ "keys": keys }))
}

fn refuse(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

async fn token(
    State((inner, base)): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = inner.lock().expect("idp").codes.remove(&code) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let now = jiff::Timestamp::now().as_second();
    let (iat, exp) = if grant.forge == Forge::Expired {
        (now - 1200, now - 600)
    } else {
        (now, now + 300)
    };
    let nonce = if grant.forge == Forge::WrongNonce {
        "another-sign-in".to_owned()
    } else {
        grant.nonce.clone()
    };
    let p = &grant.person;
    let claims = json!({
        "iss": base.get().expect("base"), "aud": CLIENT_ID, "sub": p.sub, "iat": iat, "exp": exp,
        "nonce": nonce, "preferred_username": p.username, "name": p.name,
        "email": format!("{}@example.com", p.username), "groups": p.groups,
    });
    let kid = if grant.forge == Forge::KeyB { "b" } else { "a" };
    let mut id_token = jwt(kid, &claims);
    if grant.forge == Forge::Tampered {
        let mut forged = claims.clone();
        forged["groups"] = json!(["fin-devs", "web-devs"]);
        let parts: Vec<&str> = id_token.split('.').collect();
        let body = URL_SAFE_NO_PAD.encode(forged.to_string());
        id_token = format!("{}.{body}.{}", parts[0], parts[2]);
    }
    Json(json!({
        "access_token": "opaque", "token_type": "Bearer", "expires_in": 300, "id_token": id_token,
    }))
    .into_response()
}

fn jwt(kid: &str, claims: &Value) -> String {
    let header = json!({ "alg": "RS256", "kid": kid, "typ": "JWT" });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key(kid)
        .sign(
            &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            input.as_bytes(),
        )
        .expect("sign");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}
