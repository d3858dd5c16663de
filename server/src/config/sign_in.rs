//! How people sign in: local passwords, the company's OpenID provider, or both.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `RUNWAY_OIDC_ISSUER` | none | the OpenID provider's issuer URL; sets up "Sign in with …" |
//! | `RUNWAY_OIDC_CLIENT_ID` | none | the portal's client id there (required with an issuer) |
//! | `RUNWAY_OIDC_CLIENT_SECRET` | none | its client secret |
//! | `RUNWAY_OIDC_CLIENT_SECRET_FILE` | none | a file holding it instead (for mounted secrets) |
//! | `RUNWAY_OIDC_GROUPS_CLAIM` | `groups` | the ID token claim listing the person's groups |
//! | `RUNWAY_OIDC_SCOPES` | `openid profile email` | the scopes asked for (some providers send groups only with a `groups` scope) |
//! | `RUNWAY_OIDC_LABEL` | `your company account` | the button reads "Sign in with <label>" |
//! | `RUNWAY_LOCAL_PASSWORDS` | `true` | `false`: only the break-glass accounts sign in with a password |
//! | `RUNWAY_BREAK_GLASS` | none | user names that keep their local password when it is off |

use super::{ConfigError, Vars};

/// The settings read here; with `super::KNOWN`, every `RUNWAY_*` name there is.
pub(super) const KNOWN: [&str; 9] = [
    "RUNWAY_OIDC_ISSUER",
    "RUNWAY_OIDC_CLIENT_ID",
    "RUNWAY_OIDC_CLIENT_SECRET",
    "RUNWAY_OIDC_CLIENT_SECRET_FILE",
    "RUNWAY_OIDC_GROUPS_CLAIM",
    "RUNWAY_OIDC_SCOPES",
    "RUNWAY_OIDC_LABEL",
    "RUNWAY_LOCAL_PASSWORDS",
    "RUNWAY_BREAK_GLASS",
];

#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    /// None: a public client, which PKCE alone protects.
    pub client_secret: Option<String>,
    pub groups_claim: String,
    pub scopes: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct SignInSettings {
    pub oidc: Option<OidcSettings>,
    pub local_passwords: bool,
    pub break_glass: Vec<String>,
}

impl SignInSettings {
    /// Whether `username` may sign in with a password.
    pub fn password_allowed(&self, username: &str) -> bool {
        self.local_passwords || self.break_glass.iter().any(|b| b == username)
    }
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings {
            oidc: None,
            local_passwords: true,
            break_glass: Vec::new(),
        }
    }
}

fn invalid(name: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_owned(),
        value: value.to_owned(),
        expected: expected.to_owned(),
    }
}

pub(super) fn read(vars: &Vars) -> Result<SignInSettings, ConfigError> {
    let oidc = match vars.text("RUNWAY_OIDC_ISSUER") {
        None => None,
        Some(issuer) => Some(oidc(vars, issuer)?),
    };
    let local_passwords = vars.flag_or("RUNWAY_LOCAL_PASSWORDS", true)?;
    if !local_passwords && oidc.is_none() {
        return Err(invalid(
            "RUNWAY_LOCAL_PASSWORDS",
            "false",
            "true unless RUNWAY_OIDC_ISSUER sets up another way to sign in",
        ));
    }
    let break_glass = vars
        .text("RUNWAY_BREAK_GLASS")
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(SignInSettings {
        oidc,
        local_passwords,
        break_glass,
    })
}

fn oidc(vars: &Vars, issuer: String) -> Result<OidcSettings, ConfigError> {
    // The provider's signing keys are fetched from it: over plain http anyone on the way could
    // swap them and forge sign-ins. Only a provider on this machine may use it.
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|l| issuer.starts_with(l) && issuer[l.len()..].starts_with([':', '/']));
    let url_ok = issuer.starts_with("https://") || loopback;
    if !url_ok || issuer.contains(char::is_whitespace) {
        return Err(invalid(
            "RUNWAY_OIDC_ISSUER",
            &issuer,
            "the provider's https:// issuer URL, such as https://login.example.com/realms/staff",
        ));
    }
    let client_id = vars.text("RUNWAY_OIDC_CLIENT_ID").ok_or_else(|| {
        invalid(
            "RUNWAY_OIDC_CLIENT_ID",
            "",
            "the portal's client id at the provider (required with RUNWAY_OIDC_ISSUER)",
        )
    })?;
    let client_secret = match (
        vars.0
            .get("RUNWAY_OIDC_CLIENT_SECRET")
            .filter(|s| !s.is_empty()),
        vars.text("RUNWAY_OIDC_CLIENT_SECRET_FILE"),
    ) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "RUNWAY_OIDC_CLIENT_SECRET_FILE",
                "(set)",
                "unset when RUNWAY_OIDC_CLIENT_SECRET is set: give the secret one way",
            ))
        }
        (Some(secret), None) => Some(secret.clone()),
        (None, Some(path)) => {
            let secret = std::fs::read_to_string(&path).map_err(|e| {
                invalid(
                    "RUNWAY_OIDC_CLIENT_SECRET_FILE",
                    &path,
                    &format!("a readable file holding the client secret ({e})"),
                )
            })?;
            Some(secret.trim_end_matches(['\r', '\n']).to_owned())
        }
        (None, None) => None,
    };
    let label = vars
        .text("RUNWAY_OIDC_LABEL")
        .unwrap_or_else(|| "your company account".into());
    if label.chars().count() > 60 || label.chars().any(char::is_control) {
        return Err(invalid(
            "RUNWAY_OIDC_LABEL",
            &label,
            "a short name such as Acme SSO (60 characters at most)",
        ));
    }
    Ok(OidcSettings {
        issuer,
        client_id,
        client_secret,
        groups_claim: vars
            .text("RUNWAY_OIDC_GROUPS_CLAIM")
            .unwrap_or_else(|| "groups".into()),
        scopes: vars
            .text("RUNWAY_OIDC_SCOPES")
            .unwrap_or_else(|| "openid profile email".into()),
        label,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ConfigError, Settings};

    fn read(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        Settings::from_vars(pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())))
    }

    fn refused(pairs: &[(&str, &str)]) -> String {
        match read(pairs) {
            Err(ConfigError::Invalid { name, .. }) => name,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_provider_needs_its_client_and_one_secret() {
        let issuer = ("RUNWAY_OIDC_ISSUER", "https://login.example.com");
        assert_eq!(refused(&[issuer]), "RUNWAY_OIDC_CLIENT_ID");
        for issuer in [
            "login.example.com",
            "http://login.example.com",
            "http://127.0.0.1.evil.example",
        ] {
            assert_eq!(
                refused(&[("RUNWAY_OIDC_ISSUER", issuer)]),
                "RUNWAY_OIDC_ISSUER"
            );
        }
        let id = ("RUNWAY_OIDC_CLIENT_ID", "runway");
        let both = [
            issuer,
            id,
            ("RUNWAY_OIDC_CLIENT_SECRET", "s"),
            ("RUNWAY_OIDC_CLIENT_SECRET_FILE", "/nonexistent"),
        ];
        assert_eq!(refused(&both), "RUNWAY_OIDC_CLIENT_SECRET_FILE");
        let missing = [
            issuer,
            id,
            ("RUNWAY_OIDC_CLIENT_SECRET_FILE", "/nonexistent/secret"),
        ];
        assert_eq!(refused(&missing), "RUNWAY_OIDC_CLIENT_SECRET_FILE");
        let s = read(&[issuer, id, ("RUNWAY_OIDC_CLIENT_SECRET", "s")]).expect("valid");
        let oidc = s.sign_in.oidc.expect("provider");
        assert_eq!(oidc.client_secret.as_deref(), Some("s"));
        assert_eq!(oidc.groups_claim, "groups");
        assert_eq!(oidc.label, "your company account");
    }

    #[test]
    fn passwords_go_off_only_with_another_way_in_and_keep_the_break_glass_accounts() {
        assert_eq!(
            refused(&[("RUNWAY_LOCAL_PASSWORDS", "false")]),
            "RUNWAY_LOCAL_PASSWORDS"
        );
        let s = read(&[
            ("RUNWAY_OIDC_ISSUER", "https://login.example.com"),
            ("RUNWAY_OIDC_CLIENT_ID", "runway"),
            ("RUNWAY_LOCAL_PASSWORDS", "false"),
            ("RUNWAY_BREAK_GLASS", "root, ops-admin"),
        ])
        .expect("valid");
        assert!(s.sign_in.password_allowed("root"));
        assert!(s.sign_in.password_allowed("ops-admin"));
        assert!(!s.sign_in.password_allowed("ada"));
        assert!(Settings::from_vars([])
            .expect("defaults")
            .sign_in
            .password_allowed("ada"));
    }
}
