use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// How to start and talk to the app-server. Field names follow the JS `CodexOptions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientOptions {
    /// The codex executable. The JS layer resolves the installed package; Rust users pass a path.
    pub codex_path: PathBuf,
    /// Each entry becomes `-c key=<TOML value>` before `app-server`.
    pub config: Map<String, Value>,
    pub cwd: Option<PathBuf>,
    /// Merged over the inherited environment.
    pub env: HashMap<String, String>,
    pub client_info: ClientInfo,
    pub experimental_api: bool,
    pub startup_timeout_ms: u64,
    pub request_timeout_ms: u64,
    /// How long a server request may wait for the embedder's answer before the default is sent.
    pub server_request_timeout_ms: u64,
    /// Notifications waiting for a slow consumer before its deltas merge (`usize::MAX`: never).
    pub merge_deltas_after: usize,
    /// How long a run may go on while the server reports that it cannot reach the model (`error`
    /// notifications with `willRetry`) before it is stopped and fails `ERR_MODEL_UNREACHABLE`.
    pub model_unreachable_timeout_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    pub version: String,
}

impl Default for ClientInfo {
    fn default() -> Self {
        Self {
            name: "codex-app-server-sdk".into(),
            title: None,
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            codex_path: PathBuf::from("codex"),
            config: Map::new(),
            cwd: None,
            env: HashMap::new(),
            client_info: ClientInfo::default(),
            experimental_api: true,
            startup_timeout_ms: 30_000,
            request_timeout_ms: 120_000,
            server_request_timeout_ms: 600_000,
            merge_deltas_after: crate::stream::MERGE_DELTAS_AFTER,
            model_unreachable_timeout_ms: 60_000,
        }
    }
}

impl ClientOptions {
    pub fn startup_timeout(&self) -> Duration {
        Duration::from_millis(self.startup_timeout_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// The command line after the executable.
    pub fn args(&self) -> Result<Vec<String>, String> {
        let mut args = Vec::new();
        for (key, value) in &self.config {
            let v = crate::toml::toml_value(value).map_err(|e| format!("config.{key}: {e}"))?;
            args.push("-c".to_owned());
            args.push(format!("{key}={v}"));
        }
        args.push("app-server".to_owned());
        Ok(args)
    }
}
