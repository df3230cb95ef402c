//! What a new user must register at their provider before a profile can
//! sign in: for each preset and login mode, the exact redirect URIs (the
//! ones [`crate::login`] intercepts or the core's loopback listener
//! serves) and a short "register an app" guide. The profile form shows the
//! one for the chosen provider and mode; README's provider sections say
//! the same.

use tokentray_core::profile::{LoginMode, Preset};

use crate::dto::Registration;
use crate::login;

/// Every login mode `preset` allows, with what to register for it.
pub fn for_preset(preset: Preset) -> Vec<Registration> {
    LoginMode::ALL
        .iter()
        .copied()
        .filter(|login| preset.allows(*login))
        .map(|login| Registration {
            login: login.as_str().to_owned(),
            redirect_uris: redirect_uris(preset, login),
            steps: steps(preset, login)
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        })
        .collect()
}

/// The redirect URIs to register, exactly; none for the device and client
/// credentials grants.
fn redirect_uris(preset: Preset, login: LoginMode) -> Vec<String> {
    match login {
        LoginMode::Embedded => vec![login::embedded_redirect(preset).to_owned()],
        // the listener's port changes each sign-in; loopback redirects
        // match on any port (RFC 8252 §7.3)
        LoginMode::Browser => vec![login::LOOPBACK_REDIRECT.to_owned()],
        LoginMode::Device | LoginMode::ClientCredentials => Vec::new(),
    }
}

fn steps(preset: Preset, login: LoginMode) -> &'static [&'static str] {
    match (preset, login) {
        (Preset::Microsoft, LoginMode::Embedded | LoginMode::Browser) => &[
            "Microsoft Entra admin center → App registrations → New registration (any name; pick who may sign in).",
            "Authentication → Add a platform → Mobile and desktop applications → add the redirect URI below.",
            "Overview: copy the Application (client) ID into Client ID.",
        ],
        (Preset::Microsoft, LoginMode::Device) => &[
            "Microsoft Entra admin center → App registrations → New registration (any name; pick who may sign in).",
            "Authentication → Advanced settings → Allow public client flows: Yes (the device code flow needs it). No redirect URI is used.",
            "Overview: copy the Application (client) ID into Client ID.",
        ],
        (Preset::Microsoft, LoginMode::ClientCredentials) => &[
            "Microsoft Entra admin center → App registrations → New registration.",
            "Certificates & secrets → New client secret: paste its value into Client secret (it goes to the vault).",
            "API permissions: add the application permissions and grant admin consent; scopes end in /.default.",
        ],
        (Preset::Google, LoginMode::Device) => &[
            "Google Cloud console → APIs & Services → Credentials → Create credentials → OAuth client ID.",
            "Application type: TVs and Limited Input devices. No redirect URI is used.",
            "Copy the Client ID.",
        ],
        (Preset::Google, _) => &[
            "Google Cloud console → APIs & Services → Credentials → Create credentials → OAuth client ID.",
            "Application type: Desktop app. Desktop clients accept the loopback redirect below on any port: there is nothing to enter.",
            "Copy the Client ID.",
        ],
        (Preset::Github, LoginMode::Device) => &[
            "GitHub → Settings → Developer settings → OAuth Apps → New OAuth App (any homepage; the callback URL is not used).",
            "In the app's settings, tick Enable Device Flow.",
            "Copy the Client ID.",
        ],
        (Preset::Github, _) => &[
            "GitHub → Settings → Developer settings → OAuth Apps → New OAuth App.",
            "Authorization callback URL: the redirect URI below (GitHub accepts any port on a loopback callback).",
            "Copy the Client ID.",
        ],
        (Preset::Oidc, LoginMode::Device) => &[
            "At your provider, register a public (native) client with the device authorization grant enabled. No redirect URI is used.",
            "Copy its client ID.",
        ],
        (Preset::Oidc, LoginMode::ClientCredentials) => &[
            "At your provider, register a confidential client with the client credentials grant.",
            "Paste its secret into Client secret (it goes to the vault).",
        ],
        (Preset::Oidc, _) => &[
            "At your provider, register a public (native) client using the authorization code flow with PKCE.",
            "Allowed redirect URI: the one below (loopback, any port).",
            "Copy its client ID.",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The URIs shown are the ones the sign-in uses: Entra's embedded
    /// sign-in intercepts MSAL's native-client URI, everything else the
    /// loopback callback; device and client credentials register none.
    #[test]
    fn redirect_uris_are_the_ones_the_sign_in_uses() {
        let uris = |preset, login: &str| -> Option<Vec<String>> {
            for_preset(preset)
                .into_iter()
                .find(|r| r.login == login)
                .map(|r| r.redirect_uris)
        };
        assert_eq!(
            uris(Preset::Microsoft, "embedded").unwrap(),
            ["https://login.microsoftonline.com/common/oauth2/nativeclient"]
        );
        assert_eq!(
            uris(Preset::Microsoft, "browser").unwrap(),
            ["http://127.0.0.1/callback"]
        );
        assert_eq!(
            uris(Preset::Microsoft, "device").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            uris(Preset::Github, "embedded").unwrap(),
            [login::LOOPBACK_REDIRECT]
        );
        // what a preset refuses is not offered
        assert_eq!(uris(Preset::Google, "embedded"), None);
        assert_eq!(uris(Preset::Github, "client_credentials"), None);
        for preset in Preset::ALL {
            let registrations = for_preset(preset);
            assert!(!registrations.is_empty());
            assert!(registrations.iter().all(|r| !r.steps.is_empty()));
        }
        let device = for_preset(Preset::Microsoft)
            .into_iter()
            .find(|r| r.login == "device")
            .unwrap();
        assert!(device
            .steps
            .iter()
            .any(|s| s.contains("Allow public client flows")));
    }
}
