//! Runs the plugin: checks how we were started, binds a private Unix socket,
//! sets up AutoMTLS, prints the handshake line, and serves until Terraform
//! says Shutdown (or SIGTERM, or Terraform dies). SIGINT is ignored:
//! Terraform forwards Ctrl-C to us and then calls StopProvider itself.

use std::io::Write;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::Notify;
use tonic::transport::server::Connected;

use super::grpc::ProviderService;
use super::handshake;
use super::proto::{health, plugin, tfplugin6};
use super::services::{Broker, Controller, Health, Stdio};
use super::{logging, tls, Provider};

/// Large states exceed tonic's 4 MiB default; HashiCorp's servers allow 256 MiB.
const MAX_MESSAGE_SIZE: usize = 256 << 20;
/// Terraform kills a plugin that has not exited 2 s after Shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1000);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The provider binary's `main`.
pub fn serve<P: Provider>(provider: P) -> ExitCode {
    // Read first: Terraform may be gone by the time the server is up.
    let parent = std::os::unix::process::parent_id();
    let cookie = std::env::var(handshake::MAGIC_COOKIE_KEY).ok();
    let about = provider.about();
    if !handshake::started_by_terraform(cookie.as_deref()) {
        eprintln!("{}", handshake::run_by_hand_message(&about));
        return ExitCode::from(1);
    }
    logging::init(&about);
    if let Err(message) =
        handshake::negotiate_version(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())
    {
        eprintln!("{message}");
        return ExitCode::from(1);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(Arc::new(provider), parent, about.type_name())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            log::error!("{message}");
            eprintln!("{}: {message}", about.binary_name());
            ExitCode::from(1)
        }
    }
}

async fn run(provider: Arc<dyn Provider>, parent: u32, type_name: &str) -> Result<(), String> {
    ignore_sigint()?;
    let mut sigterm =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;

    let dir = socket_dir(type_name)?;
    let socket = dir.path().join("plugin.sock");
    let listener = UnixListener::bind(&socket)
        .map_err(|e| format!("cannot bind {}: {e}", socket.display()))?;

    let (acceptor, server_cert) = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() => {
            let identity = tls::ServerIdentity::generate()?;
            let config = tls::server_config(&identity, &pem)?;
            (
                Some(tokio_rustls::TlsAcceptor::from(config)),
                Some(identity.cert_der().to_vec()),
            )
        }
        _ => (None, None),
    };

    let shutdown = Arc::new(Notify::new());
    let provider_service =
        tfplugin6::provider_server::ProviderServer::new(ProviderService::new(provider))
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let router = tonic::transport::Server::builder()
        .add_service(provider_service)
        .add_service(plugin::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(plugin::grpc_stdio_server::GrpcStdioServer::new(Stdio))
        .add_service(plugin::grpc_broker_server::GrpcBrokerServer::new(Broker))
        .add_service(health::health_server::HealthServer::new(Health));

    let incoming = accept_connections(listener, acceptor);
    let (graceful_tx, graceful_rx) = tokio::sync::oneshot::channel::<()>();
    let server = router.serve_with_incoming_shutdown(incoming, async {
        let _ = graceful_rx.await;
    });
    tokio::pin!(server);

    print_handshake(&socket.to_string_lossy(), server_cert.as_deref())?;
    log::debug!("serving plugin protocol 6 on {}", socket.display());

    tokio::select! {
        result = &mut server => result.map_err(|e| format!("gRPC server failed: {e}"))?,
        _ = shutdown.notified() => stop_gracefully(graceful_tx, server).await,
        _ = sigterm.recv() => stop_gracefully(graceful_tx, server).await,
        () = parent_gone(parent) => {
            log::warn!("Terraform (process {parent}) is gone; stopping");
            stop_gracefully(graceful_tx, server).await
        }
    }
    drop(dir);
    Ok(())
}

/// Resolves once `parent`, the process that started us, has died: a
/// SIGKILLed Terraform never says Shutdown, and an orphaned provider would
/// linger with requests in flight. Orphans are re-parented, so a parent pid
/// other than the one read at start is the sign.
async fn parent_gone(parent: u32) {
    const POLL: Duration = Duration::from_millis(250);
    while std::os::unix::process::parent_id() == parent {
        tokio::time::sleep(POLL).await;
    }
}

/// Lets requests in flight finish, but never past Terraform's patience.
async fn stop_gracefully<F: std::future::Future>(
    graceful: tokio::sync::oneshot::Sender<()>,
    server: Pin<&mut F>,
) {
    let _ = graceful.send(());
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
}

fn ignore_sigint() -> Result<(), String> {
    let mut sigint =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"))?;
    tokio::spawn(async move {
        while sigint.recv().await.is_some() {
            log::debug!("ignoring SIGINT: Terraform will call StopProvider");
        }
    });
    Ok(())
}

/// A fresh private directory (mode 0700) for the socket, inside
/// `PLUGIN_UNIX_SOCKET_DIR` when the host sets it. Removed when dropped.
fn socket_dir(type_name: &str) -> Result<tempfile::TempDir, String> {
    use std::os::unix::fs::PermissionsExt;
    let base = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix(&format!("{type_name}-plugin"))
        .tempdir_in(&base)
        .map_err(|e| {
            format!(
                "cannot create a socket directory in {}: {e}",
                base.display()
            )
        })?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot make {} private: {e}", dir.path().display()))?;
    Ok(dir)
}

fn print_handshake(socket: &str, server_cert: Option<&[u8]>) -> Result<(), String> {
    let line = handshake::handshake_line("unix", socket, server_cert);
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write the handshake line: {e}"))
}

/// Accepts connections; with AutoMTLS, each TLS handshake runs on its own
/// task so one slow client cannot hold up the others.
fn accept_connections(
    listener: UnixListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) -> tokio_stream::wrappers::ReceiverStream<Result<Conn, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    log::warn!("accept failed: {e}");
                    continue;
                }
            };
            let Some(acceptor) = acceptor.clone() else {
                if tx.send(Ok(Conn::Plain(stream))).await.is_err() {
                    return;
                }
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => {
                        let _ = tx.send(Ok(Conn::Tls(Box::new(tls)))).await;
                    }
                    Ok(Err(e)) => log::warn!("TLS handshake refused: {e}"),
                    Err(_) => log::warn!("TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// A connection from Terraform, plain or TLS.
enum Conn {
    Plain(UnixStream),
    Tls(Box<tokio_rustls::server::TlsStream<UnixStream>>),
}

impl Connected for Conn {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
