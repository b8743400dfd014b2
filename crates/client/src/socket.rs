//! The WebSocket transport: an app-server this client did not spawn, over TCP (`ws://`), TLS
//! (`wss://`, rustls with the Mozilla roots) or a unix socket (`unix://`). One task per connection
//! carries frames both ways; a supervisor re-dials when the connection drops, initializes again and
//! resumes every run in progress, so a turn or goal goes on across the gap.

use crate::error::{code, ClientError};
use crate::lock;
use crate::retry;
use crate::transport::{Boxed, Delivery, Link, Outbox, Transport};
use futures_util::{SinkExt, StreamExt};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, Uri};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// How to reach a running app-server.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `ws://host:port`, `wss://…`, `unix:///path/to.sock`, or `unix://` for the control socket of
    /// `codex_home`.
    pub url: String,
    /// Sent as `Authorization: Bearer <token>`; never logged, never in an error.
    pub token: Option<String>,
    /// For `unix://`: default `$CODEX_HOME`, else `~/.codex`.
    pub codex_home: Option<PathBuf>,
    /// Permit plain `ws://` to a host that is not loopback (the token would travel in clear).
    pub allow_insecure: bool,
    /// Re-dial a dropped connection; `None`: give up at the first drop.
    pub reconnect: Option<Reconnect>,
    pub connect_timeout: Duration,
}

impl ConnectOptions {
    /// How long dialling and the handshake may take, unless configured.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
}

#[derive(Debug, Clone, Copy)]
pub struct Reconnect {
    pub attempts: u32,
    pub max_delay: Duration,
}

/// 12 attempts wait 16 to 31 s in all (backoff with jitter, capped at 5 s): a gap of 10 s, a
/// laptop's Wi-Fi coming back, is ridden out.
impl Default for Reconnect {
    fn default() -> Self {
        Self {
            attempts: 12,
            max_delay: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
enum Endpoint {
    Tcp {
        url: String,
        host: String,
        port: u16,
        tls: bool,
    },
    Unix {
        path: PathBuf,
    },
}

impl Endpoint {
    fn parse(o: &ConnectOptions) -> Result<Endpoint, ClientError> {
        let invalid = |why: &str| ClientError::invalid(format!("Codex.connect: url {}: {why}", shown(&o.url)));
        if let Some(rest) = o.url.strip_prefix("unix://") {
            let path = if rest.is_empty() {
                let home = o
                    .codex_home
                    .clone()
                    .or_else(|| std::env::var_os("CODEX_HOME").map(PathBuf::from))
                    .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".codex")))
                    .ok_or_else(|| invalid("no codexHome, CODEX_HOME or HOME to find the control socket in"))?;
                home.join("app-server-control").join("app-server-control.sock")
            } else {
                PathBuf::from(rest)
            };
            return Ok(Endpoint::Unix { path });
        }
        let uri: Uri = o.url.parse().map_err(|e| invalid(&format!("{e}")))?;
        let tls = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(invalid("must start with ws://, wss:// or unix://")),
        };
        let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("credentials in the URL are not sent: pass `token` instead"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        let port = match authority.as_str().strip_prefix(authority.host()) {
            Some("") => {
                if tls {
                    443
                } else {
                    80
                }
            }
            _ => authority
                .port_u16()
                .ok_or_else(|| invalid("the port is not a number"))?,
        };
        if !tls && !o.allow_insecure && !is_loopback(&host) {
            return Err(invalid(
                "plain ws:// to a host that is not loopback would send the token and every message in clear: \
                 use wss://, an SSH tunnel to a loopback port, or allowInsecure: true",
            ));
        }
        Ok(Endpoint::Tcp {
            url: o.url.clone(),
            host,
            port,
            tls,
        })
    }

    /// For messages: the address, never the token (nor credentials or a query in the URL).
    fn describe(&self) -> String {
        match self {
            Endpoint::Tcp { url, .. } => shown(url),
            Endpoint::Unix { path } => format!("unix://{}", path.display()),
        }
    }
}

/// `localhost`, 127.0.0.0/8, `::1`, and 127.0.0.1 written as an IPv4-mapped IPv6 address.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// A URL as messages may show it: without the credentials (`user:pass@`) or the query (`?token=`)
/// it may carry, which are secrets more often than not.
fn shown(url: &str) -> String {
    let (head, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = match rest.find(['/', '?', '#']) {
        // Credentials sit before the host, which ends at the path, query or fragment.
        Some(end) => match rest[..end].rfind('@') {
            Some(at) => &rest[at + 1..],
            None => rest,
        },
        None => rest.rsplit_once('@').map_or(rest, |(_, host)| host),
    };
    let rest = match rest.find(['?', '#']) {
        Some(q) => format!("{}?…", &rest[..q]),
        None => rest.to_owned(),
    };
    if head.is_empty() {
        rest
    } else {
        format!("{head}://{rest}")
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Ws = WebSocketStream<Box<dyn Io>>;

/// Opens a WebSocket to the endpoint, within `timeout`.
async fn dial(endpoint: &Endpoint, token: Option<&str>, timeout: Duration) -> Result<Ws, ClientError> {
    let address = endpoint.describe();
    let attempt = async {
        let connect_error =
            |e: std::io::Error| ClientError::new(code::CONNECT, format!("could not connect to {address}: {e}"));
        let (io, request_url): (Box<dyn Io>, String) = match endpoint {
            Endpoint::Unix { path } => {
                #[cfg(unix)]
                {
                    let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| {
                        ClientError::new(code::CONNECT, format!("no app-server listens on {address}: {e}"))
                    })?;
                    (Box::new(stream), "ws://localhost/".to_owned())
                }
                #[cfg(not(unix))]
                {
                    let _ = path;
                    return Err(ClientError::new(
                        code::CONNECT,
                        format!("{address}: unix sockets need a unix host"),
                    ));
                }
            }
            Endpoint::Tcp { url, host, port, tls } => {
                let tcp = tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(connect_error)?;
                let _ = tcp.set_nodelay(true);
                if *tls {
                    let name = rustls::pki_types::ServerName::try_from(host.clone())
                        .map_err(|e| ClientError::invalid(format!("Codex.connect: {address}: {e}")))?;
                    let stream = tls_connector()?
                        .connect(name, tcp)
                        .await
                        .map_err(|e| ClientError::new(code::CONNECT, format!("TLS with {address} failed: {e}")))?;
                    (Box::new(stream), url.clone())
                } else {
                    (Box::new(tcp), url.clone())
                }
            }
        };
        let mut request = request_url
            .into_client_request()
            .map_err(|e| ClientError::invalid(format!("Codex.connect: {address}: {e}")))?;
        if let Some(token) = token {
            request.headers_mut().insert("authorization", bearer(token)?);
        }
        let (ws, _) = tokio_tungstenite::client_async(request, io)
            .await
            .map_err(|e| handshake_error(&address, e))?;
        Ok(ws)
    };
    tokio::time::timeout(timeout, attempt).await.unwrap_or_else(|_| {
        Err(ClientError::new(
            code::TIMEOUT,
            format!("connecting to {address} took longer than {} ms", timeout.as_millis()),
        ))
    })
}

fn handshake_error(address: &str, e: WsError) -> ClientError {
    match e {
        WsError::Http(response) => {
            let status = response.status();
            let why = match status {
                StatusCode::UNAUTHORIZED => "a missing or wrong token",
                StatusCode::FORBIDDEN => "forbidden",
                _ => "the server refused the WebSocket upgrade",
            };
            let code = if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                code::AUTH
            } else {
                code::CONNECT
            };
            ClientError::new(code, format!("{address} refused the connection: {status} ({why})"))
        }
        other => ClientError::new(
            code::CONNECT,
            format!("the WebSocket handshake with {address} failed: {other}"),
        ),
    }
}

/// Trusts the Mozilla roots, plus the certificates in `$NODE_EXTRA_CA_CERTS` as Node itself does (a
/// private CA, a corporate proxy). Built per dial, so the variable is read when it is needed.
fn tls_connector() -> Result<tokio_rustls::TlsConnector, ClientError> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS").filter(|p| !p.is_empty()) {
        let shown = std::path::Path::new(&path).display().to_string();
        let unusable = |why: String| {
            ClientError::new(
                code::CONNECT,
                format!("NODE_EXTRA_CA_CERTS ({shown}) cannot be used: {why}"),
            )
        };
        let certs = CertificateDer::pem_file_iter(&path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| unusable(e.to_string()))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(unusable("it holds no certificate".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::new(code::CONNECT, format!("TLS cannot be set up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The transport of a connected client.
pub(crate) struct Socket {
    endpoint: Endpoint,
    token: Option<String>,
    reconnect: Option<Reconnect>,
    timeout: Duration,
    writer: Outbox,
    link: watch::Sender<Link>,
    /// Why the connection is gone, once reconnecting gave up.
    gone: Mutex<Option<ClientError>>,
    task: Mutex<Option<JoinHandle<String>>>,
    /// Why the current connection ended, once it has (reset for each new one).
    ended: watch::Sender<Option<String>>,
}

impl Transport for Socket {
    fn send(&self, line: String) -> bool {
        self.writer.send(line)
    }

    fn link(&self) -> Option<watch::Receiver<Link>> {
        Some(self.link.subscribe())
    }

    /// Closes the connection (a Close frame), and never stops the server.
    fn close(&self) -> Boxed<'_, ()> {
        Box::pin(async move {
            self.writer.shut();
            self.link.send_replace(Link::Gone);
            let task = lock(&self.task).take();
            if let Some(task) = task {
                let _ = tokio::time::timeout(Duration::from_secs(2), task).await;
            }
        })
    }

    fn ended(&self, closing: bool) -> ClientError {
        if closing {
            return ClientError::new(code::TRANSPORT_CLOSED, "the client was closed");
        }
        lock(&self.gone).clone().unwrap_or_else(|| {
            ClientError::new(
                code::TRANSPORT_CLOSED,
                format!("the connection to {} is down", self.endpoint.describe()),
            )
        })
    }

    fn pid(&self) -> Option<u32> {
        None
    }
}

/// A connection dialled and upgraded, before the client that will use it exists.
pub(crate) struct Connection(Ws);

impl Socket {
    /// Dials the first connection of a client; every option is checked before anything is sent.
    pub(crate) async fn dial_first(connect: ConnectOptions) -> Result<(Arc<Socket>, Connection), ClientError> {
        let endpoint = Endpoint::parse(&connect)?;
        // Checked before dialling, so a token that can never be sent fails the same way every time.
        if let Some(token) = &connect.token {
            bearer(token)?;
        }
        let ws = dial(&endpoint, connect.token.as_deref(), connect.connect_timeout).await?;
        let socket = Socket {
            endpoint,
            token: connect.token,
            reconnect: connect.reconnect,
            timeout: connect.connect_timeout,
            writer: Outbox::default(),
            link: watch::channel(Link::Up).0,
            gone: Mutex::new(None),
            task: Mutex::new(None),
            ended: watch::channel(None).0,
        };
        Ok((Arc::new(socket), Connection(ws)))
    }

    /// Starts carrying a connection's frames, to and from `to`.
    pub(crate) fn carry(&self, to: Weak<dyn Delivery>, connection: Connection) {
        let rx = self.writer.open();
        self.ended.send_replace(None);
        let ended = self.ended.clone();
        *lock(&self.task) = Some(tokio::spawn(async move {
            let why = carry(to, connection.0, rx).await;
            ended.send_replace(Some(why.clone()));
            why
        }));
    }

    /// Resolves when the current connection ends, with why (a Close frame's code and reason).
    pub(crate) async fn ended(&self) -> String {
        let mut rx = self.ended.subscribe();
        let why = rx
            .wait_for(Option::is_some)
            .await
            .map(|why| why.clone().unwrap_or_default());
        match why {
            Ok(why) => why,
            Err(_) => std::future::pending().await,
        }
    }

    /// The address, for messages (never a secret).
    pub(crate) fn address(&self) -> String {
        self.endpoint.describe()
    }

    /// Watches the connection from now on, re-dialling it when it drops (see [`supervise`]).
    pub(crate) fn supervise(self: &Arc<Self>, to: Weak<dyn Delivery>) {
        tokio::spawn(supervise(to, self.clone()));
    }

    fn give_up(&self, error: ClientError) -> ClientError {
        *lock(&self.gone) = Some(error.clone());
        self.writer.shut();
        self.link.send_replace(Link::Gone);
        error
    }
}

/// Carries one connection: queued lines out as text frames, frames in to the client, until either
/// side ends. Returns why it ended.
async fn carry(to: Weak<dyn Delivery>, mut ws: Ws, mut outgoing: mpsc::UnboundedReceiver<String>) -> String {
    loop {
        tokio::select! {
            line = outgoing.recv() => match line {
                Some(line) => {
                    if let Err(e) = ws.send(Message::text(line)).await {
                        return format!("a write failed: {e}");
                    }
                }
                None => {
                    let _ = ws.close(None).await;
                    return "closed by the client".into();
                }
            },
            frame = ws.next() => {
                let Some(to) = to.upgrade() else { return "the client is gone".into() };
                // One message per frame, read where it lies.
                match frame {
                    Some(Ok(Message::Text(text))) => to.message(text.as_str()),
                    Some(Ok(Message::Binary(bytes))) => to.message(&String::from_utf8_lossy(&bytes)),
                    Some(Ok(Message::Close(Some(frame)))) => {
                        return format!("the server closed the connection: close code {}{}", u16::from(frame.code),
                            if frame.reason.is_empty() { String::new() } else { format!(", {}", frame.reason) })
                    }
                    Some(Ok(Message::Close(None))) | None => return "the server closed the connection".into(),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return e.to_string(),
                }
            }
        }
    }
}

/// Watches the connection; when it drops, fails what was in flight, re-dials with backoff and
/// jitter, initializes again and brings the runs in progress up to date. A drop while they are
/// being brought up to date is just another drop: they wait for the next connection. Gives up
/// after the policy's attempts (counted per drop).
async fn supervise(to: Weak<dyn Delivery>, socket: Arc<Socket>) {
    // The runs being brought up to date on the current connection, while it lasts.
    let mut resync: Option<Boxed<'static, ()>> = None;
    loop {
        let Some(mut task) = lock(&socket.task).take() else {
            return;
        };
        let ended = match resync.take() {
            Some(mut resync) => tokio::select! {
                why = &mut task => why,
                () = &mut resync => (&mut task).await,
            },
            None => (&mut task).await,
        };
        let why = ended.unwrap_or_else(|e| e.to_string());
        let Some(strong) = to.upgrade() else { return };
        let address = socket.endpoint.describe();
        if strong.is_closing() {
            strong.ended(None);
            return;
        }
        socket.writer.shut();
        socket.link.send_replace(Link::Down);
        strong.dropped(&ClientError::new(
            code::TRANSPORT_CLOSED,
            format!("the connection to {address} dropped ({why}) with this request in flight: the server may or may not have acted on it"),
        ));
        let Some(policy) = socket.reconnect else {
            let e = socket.give_up(ClientError::new(
                code::TRANSPORT_CLOSED,
                format!("the connection to {address} dropped ({why})"),
            ));
            strong.ended(Some(e));
            return;
        };
        drop(strong);
        match redial(&to, &socket, policy).await {
            Ok(strong) => resync = Some(strong.resync()),
            Err(e) => {
                let e = socket.give_up(e);
                if let Some(strong) = to.upgrade() {
                    strong.ended(Some(e));
                }
                return;
            }
        }
    }
}

/// Re-dials until a connection is up and initialized again, or the attempts run out.
async fn redial(
    to: &Weak<dyn Delivery>,
    socket: &Arc<Socket>,
    policy: Reconnect,
) -> Result<Arc<dyn Delivery>, ClientError> {
    let address = socket.endpoint.describe();
    let mut last = String::from("no attempt was made");
    for attempt in 1..=policy.attempts {
        tokio::time::sleep(retry::backoff(attempt).min(policy.max_delay)).await;
        let Some(strong) = to.upgrade() else {
            return Err(ClientError::new(code::TRANSPORT_CLOSED, "the client is gone"));
        };
        if strong.is_closing() {
            return Err(ClientError::new(code::TRANSPORT_CLOSED, "the client was closed"));
        }
        let ws = match dial(&socket.endpoint, socket.token.as_deref(), socket.timeout).await {
            Ok(ws) => ws,
            // A token the server refuses now will not be taken on the next try either.
            Err(e) if e.code == code::AUTH => {
                return Err(ClientError::new(
                    code::TRANSPORT_CLOSED,
                    format!(
                        "the connection to {address} dropped, and on re-dialling {}: the connection cannot come back \
                         with this token (one that expired must be replaced: connect again)",
                        e.message.trim_start_matches(&format!("{address} "))
                    ),
                ))
            }
            Err(e) => {
                last = e.message;
                continue;
            }
        };
        socket.carry(to.clone(), Connection(ws));
        match tokio::time::timeout(socket.timeout, strong.clone().reopen()).await {
            Ok(Ok(())) => {
                socket.link.send_replace(Link::Up);
                return Ok(strong);
            }
            Ok(Err(e)) => last = e.message,
            Err(_) => last = "the app-server did not answer `initialize` in time".into(),
        }
        socket.writer.shut();
        if let Some(task) = lock(&socket.task).take() {
            task.abort();
        }
    }
    Err(ClientError::new(
        code::TRANSPORT_CLOSED,
        format!(
            "the connection to {address} dropped and reconnecting gave up after {} attempts: {last}",
            policy.attempts
        ),
    ))
}

/// The `Authorization` header for a token; an error that does not show the token when a header
/// cannot carry it (a line break, say).
fn bearer(token: &str) -> Result<HeaderValue, ClientError> {
    HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| ClientError::invalid("Codex.connect: the token cannot be sent in an HTTP header"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Endpoint, ClientError> {
        Endpoint::parse(&ConnectOptions {
            url: url.into(),
            token: None,
            codex_home: Some(PathBuf::from("/home/me/.codex")),
            allow_insecure: false,
            reconnect: None,
            connect_timeout: Duration::from_secs(1),
        })
    }

    fn tcp(url: &str) -> (String, u16, bool) {
        match parse(url).unwrap() {
            Endpoint::Tcp { host, port, tls, .. } => (host, port, tls),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_name_their_endpoint() {
        assert_eq!(tcp("ws://127.0.0.1:4500"), ("127.0.0.1".into(), 4500, false));
        assert_eq!(tcp("ws://localhost/path?q#f"), ("localhost".into(), 80, false));
        assert_eq!(tcp("ws://[::1]:9"), ("::1".into(), 9, false));
        assert_eq!(tcp("wss://codex.example.com"), ("codex.example.com".into(), 443, true));
        let Endpoint::Unix { path } = parse("unix://").unwrap() else {
            panic!()
        };
        assert_eq!(
            path,
            PathBuf::from("/home/me/.codex/app-server-control/app-server-control.sock")
        );
        let Endpoint::Unix { path } = parse("unix:///run/a.sock").unwrap() else {
            panic!()
        };
        assert_eq!(path, PathBuf::from("/run/a.sock"));
    }

    #[test]
    fn messages_never_show_credentials_or_a_query() {
        assert_eq!(shown("ws://me:pw@127.0.0.1:1/x?token=s#f"), "ws://127.0.0.1:1/x?…");
        assert_eq!(shown("wss://host:9?token=secret"), "wss://host:9?…");
        assert_eq!(shown("ws://a@b@host"), "ws://host");
        assert_eq!(shown("ws://127.0.0.1:4500"), "ws://127.0.0.1:4500");
        for url in [
            "ws://me:pw@127.0.0.1:1",
            "ws://127.0.0.1:port?token=pw",
            "bogus://me:pw@x",
        ] {
            let e = parse(url).unwrap_err();
            assert!(!e.message.contains("pw"), "{url}: {}", e.message);
        }
    }

    #[test]
    fn an_ipv4_mapped_loopback_is_loopback() {
        assert!(is_loopback("::ffff:127.0.0.1"));
        assert!(is_loopback("127.0.0.2") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("::ffff:192.0.2.1"));
        assert_eq!(tcp("ws://[::ffff:127.0.0.1]:9"), ("::ffff:127.0.0.1".into(), 9, false));
    }

    #[test]
    fn urls_that_cannot_be_used_say_why() {
        for (url, why) in [
            ("http://127.0.0.1:1", "must start with ws://, wss:// or unix://"),
            ("not a url", "Codex.connect: url not a url"),
            ("ws://me:pw@127.0.0.1:1", "credentials in the URL are not sent"),
            ("ws://127.0.0.1:port", "the port is not a number"),
            ("ws://127.0.0.1:", "the port is not a number"),
            ("ws://192.0.2.1:4500", "plain ws:// to a host that is not loopback"),
        ] {
            let e = parse(url).unwrap_err();
            assert_eq!(e.code, code::INVALID_ARGUMENT, "{url}");
            assert!(e.message.contains(why), "{url}: {}", e.message);
        }
    }
}
