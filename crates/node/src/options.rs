//! `Codex.start()` options as JS passes them (already checked by the TypeScript layer), turned into
//! the client's own options. Defaults live in one place: `ClientOptions::default()`.

use codex_sdk_client::{ClientError, ClientInfo, ClientOptions, ConnectOptions, Reconnect};
use napi_derive::napi;
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

#[napi(object)]
pub struct BindingClientOptions {
    /// Resolved by the TypeScript layer (`$CODEX_PATH`, the installed package, `codex` on PATH).
    pub codex_path: String,
    pub config: Option<Value>,
    pub cwd: Option<String>,
    pub env: Option<HashMap<String, String>>,
    pub client_info: Option<BindingClientInfo>,
    pub experimental_api: Option<bool>,
    pub startup_timeout_ms: Option<f64>,
    pub request_timeout_ms: Option<f64>,
    pub server_request_timeout_ms: Option<f64>,
    /// Waiting notifications before a slow consumer's deltas merge; `Infinity`: never.
    pub merge_deltas_after: Option<f64>,
    pub model_unreachable_timeout_ms: Option<f64>,
}

/// `Codex.connect()` options: where and how to connect, and the options a client has either way.
#[napi(object)]
pub struct BindingConnectOptions {
    pub url: String,
    pub token: Option<String>,
    pub codex_home: Option<String>,
    pub allow_insecure: Option<bool>,
    /// `false`: give up at the first drop; else re-dial within these bounds.
    pub reconnect: Option<bool>,
    pub reconnect_attempts: Option<u32>,
    pub reconnect_max_delay_ms: Option<f64>,
    pub connect_timeout_ms: Option<f64>,
    pub client: BindingClientOptions,
}

impl BindingConnectOptions {
    pub fn into_connect_options(self) -> Result<(ClientOptions, ConnectOptions), ClientError> {
        let d = Reconnect::default();
        let reconnect = match self.reconnect {
            Some(false) => None,
            _ => Some(Reconnect {
                attempts: self.reconnect_attempts.unwrap_or(d.attempts),
                max_delay: millis("Codex.connect: reconnect.maxDelayMs", self.reconnect_max_delay_ms)?
                    .map_or(d.max_delay, Duration::from_millis),
            }),
        };
        let connect = ConnectOptions {
            url: self.url,
            token: self.token,
            codex_home: self.codex_home.map(Into::into),
            allow_insecure: self.allow_insecure.unwrap_or(false),
            reconnect,
            connect_timeout: millis("Codex.connect: connectTimeoutMs", self.connect_timeout_ms)?
                .map_or(ConnectOptions::DEFAULT_CONNECT_TIMEOUT, Duration::from_millis),
        };
        Ok((self.client.into_client_options()?, connect))
    }
}

#[napi(object)]
pub struct BindingClientInfo {
    pub name: String,
    pub title: Option<String>,
    pub version: String,
}

impl BindingClientOptions {
    pub fn into_client_options(self) -> Result<ClientOptions, ClientError> {
        let d = ClientOptions::default();
        let ms = |name: &str, v: Option<f64>, default: u64| {
            millis(&format!("Codex.start: {name}"), v).map(|v| v.unwrap_or(default))
        };
        let config = match self.config {
            None | Some(Value::Null) => d.config,
            Some(Value::Object(map)) => map,
            Some(_) => return Err(ClientError::invalid("Codex.start: config must be an object")),
        };
        Ok(ClientOptions {
            codex_path: self.codex_path.into(),
            config,
            cwd: self.cwd.map(Into::into),
            env: self.env.unwrap_or_default(),
            client_info: self.client_info.map_or(d.client_info, |c| ClientInfo {
                name: c.name,
                title: c.title,
                version: c.version,
            }),
            experimental_api: self.experimental_api.unwrap_or(d.experimental_api),
            startup_timeout_ms: ms("startupTimeoutMs", self.startup_timeout_ms, d.startup_timeout_ms)?,
            request_timeout_ms: ms("requestTimeoutMs", self.request_timeout_ms, d.request_timeout_ms)?,
            server_request_timeout_ms: ms(
                "serverRequestTimeoutMs",
                self.server_request_timeout_ms,
                d.server_request_timeout_ms,
            )?,
            model_unreachable_timeout_ms: ms(
                "modelUnreachableTimeoutMs",
                self.model_unreachable_timeout_ms,
                d.model_unreachable_timeout_ms,
            )?,
            merge_deltas_after: match self.merge_deltas_after {
                None => d.merge_deltas_after,
                Some(n) if n == f64::INFINITY => usize::MAX,
                Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 => n as usize,
                Some(n) => {
                    return Err(ClientError::invalid(format!(
                        "Codex.start: mergeDeltasAfter must be a positive integer or Infinity, got {n}"
                    )))
                }
            },
        })
    }
}

/// A time in ms as JS gives it: positive, finite, at most 2^31-1 (what a JS timer takes).
pub fn millis(what: &str, ms: Option<f64>) -> Result<Option<u64>, ClientError> {
    match ms {
        None => Ok(None),
        // At least 1 ms: a smaller wait would round to none at all.
        Some(ms) if ms.is_finite() && ms >= 1.0 && ms <= i32::MAX as f64 => Ok(Some(ms as u64)),
        Some(ms) => Err(ClientError::invalid(format!(
            "{what} must be a number of milliseconds from 1 to 2147483647, got {ms}"
        ))),
    }
}
