//! The portal's shared state: its options, the rate limits of sign-in, and the current config.

use crate::PortalOptions;
use crate::page::PageError;
use gatehouse_model::Config;
use std::sync::Arc;

pub struct Portal {
    pub options: PortalOptions,
    pub signin_limits: crate::accounts::limits::SigninLimits,
    /// E-mails the portal sends (sign-up confirmations, resets), counted per address and per
    /// source with the same windows: the portal cannot be made to flood a mailbox.
    pub mail_limits: crate::accounts::limits::SigninLimits,
    pub http: reqwest::Client,
}

impl Portal {
    pub fn new(options: PortalOptions) -> Portal {
        // The console's client: bounded, no redirects followed (the user sees the gateway's
        // answer as it is), no proxy from the environment (requests go to the gateway only).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        Portal {
            options,
            signin_limits: crate::accounts::limits::SigninLimits::default(),
            mail_limits: crate::accounts::limits::SigninLimits::default(),
            http,
        }
    }

    /// The newest committed configuration.
    pub async fn config(&self) -> Result<Arc<Config>, PageError> {
        let current = self.options.backing.current().await?;
        Ok(current.config)
    }

    pub fn key(&self) -> &[u8; 32] {
        &self.options.signing_key
    }
}
