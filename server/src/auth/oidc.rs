//! Signing in through the company's OpenID provider: the authorization code flow with PKCE,
//! `state` and `nonce`. The ID token is checked for issuer, audience, expiry and signature
//! against the keys the provider publishes; those are cached with its discovery document and
//! fetched again when a token names a key the cache lacks (the provider rotated its keys).

use crate::config::OidcSettings;
use crate::service::provider_sign_in::ProviderIdentity;
use base64::Engine;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdToken, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Session key of a sign-in on its way through the provider.
pub const PENDING: &str = "oidc_pending";
/// The discovery document and keys are read again after this long.
const FRESH_FOR: Duration = Duration::from_secs(3600);
/// After a failed discovery, pages say "unavailable" this long before the next try.
const RETRY_AFTER: Duration = Duration::from_secs(15);

/// What the session keeps between leaving for the provider and coming back.
#[derive(Debug, Serialize, Deserialize)]
pub struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    pub next: String,
}

/// Why a sign-in through the provider failed. `code` is what the login page is told.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    #[error("the sign-in was not started in this browser, or was already used")]
    State,
    #[error("the identity provider did not sign the person in: {0}")]
    Denied(String),
    #[error("the ID token was refused: {1}")]
    Token(&'static str, String),
}

impl OidcError {
    pub fn code(&self) -> &'static str {
        match self {
            OidcError::Unavailable(_) => "sso_unavailable",
            OidcError::State => "sso_state",
            OidcError::Denied(_) => "sso_denied",
            OidcError::Token(code, _) => code,
        }
    }
}

/// A client built from the discovery document: its token endpoint is known.
type Discovered = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

#[derive(Default)]
struct Cache {
    metadata: Option<(CoreProviderMetadata, Instant)>,
    failed: Option<(String, Instant)>,
}

pub struct Provider {
    settings: OidcSettings,
    redirect: RedirectUrl,
    http: reqwest::Client,
    cache: tokio::sync::Mutex<Cache>,
}

impl Provider {
    /// `public_url` is where people reach the portal; the provider sends them back under it.
    pub fn new(settings: OidcSettings, public_url: &str) -> anyhow::Result<Provider> {
        let redirect = RedirectUrl::new(format!("{public_url}/auth/oidc/callback"))?;
        let http = reqwest::Client::builder()
            // A redirect from the provider's endpoints could aim these calls anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(Provider {
            settings,
            redirect,
            http,
            cache: tokio::sync::Mutex::default(),
        })
    }

    pub fn label(&self) -> &str {
        &self.settings.label
    }

    /// Whether sign-in through the provider works now, as far as its discovery document says.
    /// While another page is fetching that, the login page does not wait behind it (a provider
    /// answering slowly must not hold up the break-glass way in): the button shows, and a
    /// click is told if the provider is unavailable.
    pub async fn available(&self) -> bool {
        if let Ok(cache) = self.cache.try_lock() {
            drop(cache);
            return self.metadata(false).await.is_ok();
        }
        true
    }

    /// The discovery document with its keys: cached, or read again when stale or `fresh` asks.
    async fn metadata(&self, fresh: bool) -> Result<CoreProviderMetadata, OidcError> {
        let mut cache = self.cache.lock().await;
        if let Some((m, at)) = &cache.metadata {
            if !fresh && at.elapsed() < FRESH_FOR {
                return Ok(m.clone());
            }
        }
        if let Some((cause, at)) = &cache.failed {
            if !fresh && at.elapsed() < RETRY_AFTER {
                return Err(OidcError::Unavailable(cause.clone()));
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone())
            .map_err(|e| OidcError::Unavailable(format!("issuer URL: {e}")))?;
        match CoreProviderMetadata::discover_async(issuer, &self.http).await {
            Ok(m) => {
                *cache = Cache {
                    metadata: Some((m.clone(), Instant::now())),
                    failed: None,
                };
                Ok(m)
            }
            Err(e) => {
                let cause = format!(
                    "discovery at {} failed: {}",
                    self.settings.issuer,
                    chain(&e)
                );
                tracing::warn!(%cause, "OpenID provider unavailable");
                cache.failed = Some((cause.clone(), Instant::now()));
                Err(OidcError::Unavailable(cause))
            }
        }
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Discovered {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect.clone())
    }

    /// The provider's address to send the person to, and what to keep until they come back.
    pub async fn start(&self, next: &str) -> Result<(String, Pending), OidcError> {
        let client = self.client(self.metadata(false).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self
            .settings
            .scopes
            .split_whitespace()
            .filter(|s| *s != "openid")
        {
            request = request.add_scope(Scope::new(scope.to_owned()));
        }
        let (url, state, nonce) = request.url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: next.to_owned(),
        };
        Ok((url.to_string(), pending))
    }

    /// Trades the code for tokens and checks the ID token; the person it names.
    pub async fn finish(
        &self,
        code: &str,
        state: &str,
        pending: Pending,
    ) -> Result<ProviderIdentity, OidcError> {
        if state.is_empty() || state != pending.state {
            return Err(OidcError::State);
        }
        let client = self.client(self.metadata(false).await?);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Unavailable(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
            .map_err(token_request_error)?;
        let token = response.id_token().ok_or_else(|| {
            OidcError::Token("sso_claims", "the provider sent no ID token".into())
        })?;
        let nonce = Nonce::new(pending.nonce);
        let identity = match self.verify(&client, token, &nonce) {
            Err(OidcError::Token("sso_key", _)) => {
                // A key the cache lacks: the provider may have rotated its keys since.
                let client = self.client(self.metadata(true).await?);
                self.verify(&client, token, &nonce)?
            }
            other => other?,
        };
        Ok(identity)
    }

    fn verify(
        &self,
        client: &Discovered,
        token: &CoreIdToken,
        nonce: &Nonce,
    ) -> Result<ProviderIdentity, OidcError> {
        let claims = token
            .claims(&client.id_token_verifier(), nonce)
            .map_err(claims_error)?;
        let extra = payload(&token.to_string());
        let groups = match extra.get(&self.settings.groups_claim) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect(),
            Some(serde_json::Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        // An address the provider has not verified names no one: not their user name here, and
        // not where their notices go.
        let email = claims
            .email()
            .filter(|_| claims.email_verified() == Some(true))
            .map(|e| e.as_str().to_owned());
        let subject = claims.subject().as_str();
        let username = claims
            .preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| email.clone())
            .unwrap_or_else(|| subject.to_owned());
        let display_name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        Ok(ProviderIdentity {
            subject: format!("{} {subject}", claims.issuer().as_str()),
            username,
            display_name,
            email,
            groups,
        })
    }
}

/// The claims of a verified token as JSON, to read the groups claim whatever its name.
fn payload(jwt: &str) -> serde_json::Map<String, serde_json::Value> {
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn claims_error(e: ClaimsVerificationError) -> OidcError {
    let code = match &e {
        ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ) => "sso_key",
        ClaimsVerificationError::SignatureVerification(_) => "sso_signature",
        ClaimsVerificationError::InvalidNonce(_) => "sso_nonce",
        ClaimsVerificationError::Expired(_) => "sso_expired",
        _ => "sso_claims",
    };
    OidcError::Token(code, chain(&e))
}

fn token_request_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> OidcError {
    match &e {
        RequestTokenError::ServerResponse(r)
            if *r.error() == CoreErrorResponseType::InvalidGrant =>
        {
            OidcError::Denied(format!(
                "the provider refused the sign-in code: {}",
                chain(&e)
            ))
        }
        _ => OidcError::Unavailable(format!("the token request failed: {}", chain(&e))),
    }
}

/// An error and its causes on one line, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
