//! Login throttling, shared by every web pod: failed logins are counted per account and per client
//! address in fixed windows. Once a count reaches its limit, logins are refused until the window ends,
//! even with the right password, and the answer says when to try again. Counter keys hold hashes, not
//! usernames or addresses.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use natter_kv::{KeyValue, KvError};

use crate::sessions::sha256_hex;

#[derive(Debug, Clone, Copy)]
pub struct ThrottleSettings {
    pub max_failures_per_account: u64,
    pub max_failures_per_address: u64,
    pub window: Duration,
    pub max_sign_ups_per_address: u64,
    pub sign_up_window: Duration,
}

pub(crate) struct LoginThrottle {
    kv: Arc<dyn KeyValue>,
    settings: ThrottleSettings,
}

fn account_key(username_key: &str) -> String {
    format!("login-failures:account:{}", sha256_hex(username_key.as_bytes()))
}

fn address_key(address: IpAddr) -> String {
    format!("login-failures:address:{}", sha256_hex(address.to_string().as_bytes()))
}

impl LoginThrottle {
    pub(crate) fn new(kv: Arc<dyn KeyValue>, settings: ThrottleSettings) -> Self {
        Self { kv, settings }
    }

    /// `Ok(None)` when a login may be tried; `Ok(Some(wait))` when it must wait.
    pub(crate) async fn must_wait(
        &self,
        username_key: &str,
        address: Option<IpAddr>,
    ) -> Result<Option<Duration>, KvError> {
        let account = self.kv.peek(&account_key(username_key)).await?;
        let mut wait = (account.count >= self.settings.max_failures_per_account).then_some(account.resets_in);
        if let Some(address) = address {
            let by_address = self.kv.peek(&address_key(address)).await?;
            if by_address.count >= self.settings.max_failures_per_address {
                wait = Some(wait.unwrap_or_default().max(by_address.resets_in));
            }
        }
        Ok(wait)
    }

    pub(crate) async fn failed(&self, username_key: &str, address: Option<IpAddr>) -> Result<(), KvError> {
        self.kv.hit(&account_key(username_key), self.settings.window).await?;
        if let Some(address) = address {
            self.kv.hit(&address_key(address), self.settings.window).await?;
        }
        Ok(())
    }

    /// Whether the shared store answers (readiness).
    pub(crate) async fn ping(&self) -> Result<(), KvError> {
        self.kv.ping().await
    }

    /// Counts a sign-up attempt from `address`; `Some(wait)` past the limit. Usernames are public in
    /// a chat, so "taken" cannot be hidden; this bounds how fast anyone can probe for them.
    pub(crate) async fn sign_up_attempt(&self, address: Option<IpAddr>) -> Result<Option<Duration>, KvError> {
        let Some(address) = address else { return Ok(None) };
        let key = format!("sign-ups:address:{}", sha256_hex(address.to_string().as_bytes()));
        let window = self.kv.hit(&key, self.settings.sign_up_window).await?;
        Ok((window.count > self.settings.max_sign_ups_per_address).then_some(window.resets_in))
    }

    pub(crate) async fn succeeded(&self, username_key: &str) -> Result<(), KvError> {
        self.kv.delete(&account_key(username_key)).await
    }
}
