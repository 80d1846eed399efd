//! A loopback TCP proxy that a test can pause, resume and cut.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// Bytes read from one side before they are written to the other.
const BUFFER_SIZE: usize = 16 * 1024;

/// A TCP proxy on `127.0.0.1` that forwards every accepted connection to one target, for
/// fault injection between a client and a server.
///
/// - [`pause`](Self::pause) simulates a dead network path: connections stay open but no byte
///   moves in either direction, and new connections are accepted but not connected onward.
///   Nothing is lost: [`resume`](Self::resume) delivers what was held back, as TCP would
///   after a path recovers.
/// - [`cut`](Self::cut) resets every current connection (RST on both sides), as when a NAT
///   or a Wi-Fi link drops; later connections are forwarded normally.
///
/// Must be started inside a tokio runtime; dropping it stops accepting and closes every
/// connection.
#[derive(Debug)]
pub struct TcpProxy {
    addr: SocketAddr,
    target: SocketAddr,
    paused: watch::Sender<bool>,
    count: Arc<watch::Sender<usize>>,
    conns: Arc<Mutex<Vec<Conn>>>,
    accept_task: JoinHandle<()>,
}

/// One proxied connection: a way to cut it and its task.
#[derive(Debug)]
struct Conn {
    cut: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl TcpProxy {
    /// Binds `127.0.0.1` on a free port and starts forwarding connections to `target`.
    ///
    /// The target does not need to be up yet: each accepted connection connects onward on its
    /// own, and is closed if that fails.
    ///
    /// # Errors
    /// The listener cannot be bound.
    pub async fn start(target: SocketAddr) -> std::io::Result<TcpProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (paused, _) = watch::channel(false);
        let count = Arc::new(watch::Sender::new(0usize));
        let conns = Arc::new(Mutex::new(Vec::<Conn>::new()));
        let accept_task = tokio::spawn(accept_loop(
            listener,
            target,
            paused.subscribe(),
            Arc::clone(&count),
            Arc::clone(&conns),
        ));
        Ok(TcpProxy {
            addr,
            target,
            paused,
            count,
            conns,
            accept_task,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port clients connect to (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address every connection is forwarded to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Stops moving bytes in both directions on every connection, current and new, until
    /// [`resume`](Self::resume). Connections stay open; nobody is told. A write already under way
    /// when this is called may still complete.
    pub fn pause(&self) {
        self.paused.send_replace(true);
    }

    /// Moves bytes again, starting with those held back while paused.
    pub fn resume(&self) {
        self.paused.send_replace(false);
    }

    /// Whether the proxy is paused.
    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Resets every current connection, client side and target side, and returns once they are
    /// all closed. Connections accepted afterwards are forwarded as usual.
    pub async fn cut(&self) {
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(PoisonError::into_inner));
        let mut tasks = Vec::with_capacity(conns.len());
        for conn in conns {
            // Fails only if the task already finished; then there is nothing to cut.
            let _ = conn.cut.send(());
            tasks.push(conn.task);
        }
        for task in tasks {
            // A task ends by returning; a JoinError here could only be a panic or an abort,
            // and either way the sockets are closed.
            let _ = task.await;
        }
    }

    /// How many client connections are open through the proxy right now.
    pub fn connections(&self) -> usize {
        *self.count.borrow()
    }

    /// Waits until exactly `n` client connections are open through the proxy.
    pub async fn wait_for_connections(&self, n: usize) {
        let mut rx = self.count.subscribe();
        // Fails only if the sender is dropped, and `self` holds it.
        let _ = rx.wait_for(|count| *count == n).await;
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept_task.abort();
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(PoisonError::into_inner));
        for conn in conns {
            conn.task.abort();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    paused: watch::Receiver<bool>,
    count: Arc<watch::Sender<usize>>,
    conns: Arc<Mutex<Vec<Conn>>>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Accept errors (such as running out of file descriptors) are transient: keep going.
            continue;
        };
        // Counted here, before the task runs, so a test that saw its connect succeed and then
        // waits for the count never waits on scheduling.
        let guard = CountGuard::new(Arc::clone(&count));
        let (cut_tx, cut_rx) = oneshot::channel();
        let task = tokio::spawn(serve(client, target, paused.clone(), cut_rx, guard));
        let mut conns = conns.lock().unwrap_or_else(PoisonError::into_inner);
        conns.retain(|conn| !conn.task.is_finished());
        conns.push(Conn { cut: cut_tx, task });
    }
}

/// Forwards one connection until both sides close, either fails, or it is cut.
async fn serve(
    mut client: TcpStream,
    target: SocketAddr,
    mut paused: watch::Receiver<bool>,
    cut: oneshot::Receiver<()>,
    _guard: CountGuard,
) {
    let mut upstream: Option<TcpStream> = None;
    let forwarding = async {
        // While paused, the path is dead: don't even connect onward.
        wait_unpaused(&mut paused).await?;
        let up = upstream.insert(TcpStream::connect(target).await?);
        let _ = client.set_nodelay(true);
        let _ = up.set_nodelay(true);
        let (client_read, client_write) = client.split();
        let (up_read, up_write) = up.split();
        tokio::try_join!(
            pump(client_read, up_write, paused.clone()),
            pump(up_read, client_write, paused.clone()),
        )?;
        Ok::<(), std::io::Error>(())
    };
    let was_cut = tokio::select! {
        _ = forwarding => false,
        _ = cut => true,
    };
    if was_cut {
        // Zero linger makes the close below a reset instead of an orderly FIN.
        let _ = client.set_zero_linger();
        if let Some(up) = &upstream {
            let _ = up.set_zero_linger();
        }
    }
}

/// Copies bytes from `from` to `to`, holding them while paused; on end of stream, shuts down
/// the write side so the other peer sees it too.
async fn pump(
    mut from: tokio::net::tcp::ReadHalf<'_>,
    mut to: tokio::net::tcp::WriteHalf<'_>,
    mut paused: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        wait_unpaused(&mut paused).await?;
        let n = from.read(&mut buf).await?;
        if n == 0 {
            to.shutdown().await?;
            return Ok(());
        }
        // The pause may have started while this read was pending.
        wait_unpaused(&mut paused).await?;
        to.write_all(&buf[..n]).await?;
    }
}

async fn wait_unpaused(paused: &mut watch::Receiver<bool>) -> std::io::Result<()> {
    paused
        .wait_for(|paused| !*paused)
        .await
        .map(|_| ())
        .map_err(|_| std::io::Error::other("proxy dropped"))
}

/// Counts one open client connection for as long as it lives.
struct CountGuard(Arc<watch::Sender<usize>>);

impl CountGuard {
    fn new(count: Arc<watch::Sender<usize>>) -> Self {
        count.send_modify(|n| *n += 1);
        CountGuard(count)
    }
}

impl Drop for CountGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}
