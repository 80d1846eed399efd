//! The backend as a deployment runs it at scale: several replicas on one PostgreSQL database,
//! each advertising its own Sockudo node of one cluster over Redis, so two clients of different
//! replicas sit on different nodes and every event crosses Redis. Replicas can be killed (their
//! port closes and every open connection is cut, as when the process dies) and started again on
//! the same port and the same database; the nodes are [`Sockudo`]s, killed by the test itself.
//!
//! Each replica reaches its node, and sends its clients to it, through a [`Balancer`] that
//! prefers that node and fails over to the others, as a load balancer in front of the cluster
//! does: a node's death moves its clients and its replica's triggers to a live node.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::{Context as _, Result};
use axum::serve::ListenerExt;
use confab_core::Api;
use confab_server::config::{PusherSettings, Storage};
use confab_server::write_limit::WriteLimits;
use confab_server::{app, auth, store, AppState, Db};
use confab_testkit::{Adapter, Redis, Sockudo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::Account;

/// Replicas, the Sockudo nodes they advertise (replica `i` sends its clients, and its triggers,
/// to node `i` through balancer `i`), the Redis the nodes share, and seeded users Ada and Grace.
pub struct Cluster {
    // Fields drop in this order: the replicas stop before the nodes they trigger through, and
    // the nodes before the Redis they relay over.
    pub replicas: Vec<Replica>,
    pub balancers: Vec<Balancer>,
    pub nodes: Vec<Sockudo>,
    pub users: Vec<Account>,
    pub observer: Observer,
    _redis: Redis,
}

impl Cluster {
    /// One Redis, `size` Sockudo nodes of one cluster on it, a fresh PostgreSQL database with
    /// Ada and Grace, and `size` replicas on that database, replica `i` advertising node `i`.
    pub async fn start(size: usize) -> Result<Self> {
        let redis = Redis::start().await?;
        let adapter = Adapter::redis(redis.url(), "confab-chaos");
        let mut nodes: Vec<Sockudo> = Vec::new();
        for _ in 0..size {
            let builder = Sockudo::builder().adapter(adapter.clone());
            // Every node serves the one app, so a trigger through any node reaches all.
            let builder = match nodes.first() {
                Some(first) => builder.same_app_as(first),
                None => builder,
            };
            nodes.push(builder.start().await?);
        }
        let storage = tokio::task::spawn_blocking(|| -> Result<Storage> {
            let pg = confab_testkit::Postgres::shared()?;
            Ok(Storage::Postgres(pg.fresh_database()?))
        })
        .await??;
        let observer = Observer(open_db(&storage).await?);
        let mut users = Vec::new();
        for (email, name) in [("ada@example.test", "Ada"), ("grace@example.test", "Grace")] {
            let password = format!("pw-{name}");
            let hash = auth::hash_password(&password)?;
            let user = observer
                .0
                .write(move |c| store::users::create_user(c, email, name, &hash))
                .await?;
            users.push(Account { user, password });
        }
        let mut replicas = Vec::new();
        let mut balancers = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            // Node i first, then the others in order.
            let upstreams = (0..size)
                .map(|k| SocketAddr::from(([127, 0, 0, 1], nodes[(i + k) % size].port())))
                .collect();
            let balancer = Balancer::start(upstreams).await?;
            // Both the clients' WebSocket and the replica's HTTP triggers go through it.
            let settings = PusherSettings {
                port: Some(balancer.port()),
                ..PusherSettings::of_local(node)
            };
            replicas.push(Replica::start(storage.clone(), settings).await?);
            balancers.push(balancer);
        }
        Ok(Cluster {
            replicas,
            balancers,
            nodes,
            users,
            observer,
            _redis: redis,
        })
    }

    /// A REST client of replica `replica`, logged in as user `user`.
    pub async fn api(&self, replica: usize, user: usize) -> Result<Api> {
        let api = Api::new(&self.replicas[replica].base);
        let account = &self.users[user];
        let login = api.login(&account.user.email, &account.password).await?;
        Ok(api.with_token(login.token))
    }
}

/// A handle of its own on the cluster's database, as an operator's `psql` is: it sees what
/// every replica committed, and no replica's death takes it down.
#[derive(Clone)]
pub struct Observer(Db);

impl Observer {
    /// How many messages of `conversation` the database holds, only those from `sender` if
    /// given.
    pub async fn stored(&self, conversation: i64, sender: Option<i64>) -> Result<i64> {
        Ok(self
            .0
            .read(move |c| {
                match sender {
                    Some(sender) => c.one::<i64>(
                        "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND sender_id = ?2",
                        confab_server::args![conversation, sender],
                    ),
                    None => c.one::<i64>(
                        "SELECT count(*) FROM messages WHERE conversation_id = ?1",
                        confab_server::args![conversation],
                    ),
                }
                .map_err(store::StoreError::from)
            })
            .await?)
    }
}

/// Opens (migrating) the database at `storage`, as a starting replica does.
async fn open_db(storage: &Storage) -> Result<Db> {
    let storage = storage.clone();
    // The PostgreSQL client blocks: off the async threads.
    Ok(tokio::task::spawn_blocking(move || storage.open()).await??)
}

/// One backend process in all but name, on a fixed loopback port.
pub struct Replica {
    pub port: u16,
    pub base: String,
    /// How many times it was started.
    pub starts: usize,
    storage: Storage,
    settings: PusherSettings,
    up: Option<Up>,
}

/// What a running replica has that its death takes away.
struct Up {
    state: AppState,
    /// Cuts every connection it accepted (also when dropped).
    kill: watch::Sender<bool>,
    /// Its connections open now.
    open: Arc<AtomicUsize>,
    serving: tokio::task::JoinHandle<()>,
}

impl Replica {
    async fn start(storage: Storage, settings: PusherSettings) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let mut replica = Replica {
            port,
            base: format!("http://127.0.0.1:{port}"),
            starts: 0,
            storage,
            settings,
            up: None,
        };
        replica.launch(listener).await?;
        Ok(replica)
    }

    /// Its state while it runs.
    pub fn state(&self) -> Option<&AppState> {
        self.up.as_ref().map(|up| &up.state)
    }

    /// Dies as a crashed process does: the port closes, every open connection (idle keep-alive
    /// ones and those mid-request) is cut, its database handle stops taking writes, and its
    /// state is dropped. Whatever a request had committed stays committed; its answer is lost.
    /// Returns how many connections it cut.
    pub async fn kill(&mut self) -> usize {
        let Some(up) = self.up.take() else { return 0 };
        up.serving.abort();
        // Once the task is gone, so is its listener: the port is closed (and free to bind).
        let _ = up.serving.await;
        let cut = up.open.load(Ordering::Relaxed);
        let _ = up.kill.send(true);
        up.state.db().close();
        cut
    }

    /// Starts again on the same port and the same database, with a fresh state (its own new
    /// connection pool), as a restarted process does.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill().await;
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .with_context(|| format!("binding port {} again", self.port))?;
        self.launch(listener).await
    }

    async fn launch(&mut self, listener: TcpListener) -> Result<()> {
        let db = open_db(&self.storage).await?;
        // Unlimited, as the other core tests run: a 429 would hold a burst for the server's
        // wait, which tests the limits, not delivery.
        let state = AppState::new(db, &self.settings)?.with_write_limits(WriteLimits::UNLIMITED);
        let (kill, killed) = watch::channel(false);
        let open = Arc::new(AtomicUsize::new(0));
        let router = app(state.clone());
        // `tap_io` only so that axum gives handlers the peer address (`ConnectInfo`) of a
        // listener other than a bare `TcpListener`.
        let listener = Killable {
            listener,
            killed,
            open: Arc::clone(&open),
        }
        .tap_io(|_| {});
        let serving = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        self.up = Some(Up {
            state,
            kill,
            open,
            serving,
        });
        self.starts += 1;
        Ok(())
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(up) = self.up.take() {
            up.serving.abort();
            let _ = up.kill.send(true);
        }
    }
}

/// A listener whose connections all fail at once when `killed` turns true. axum serves every
/// connection on a task of its own, which aborting the serve task leaves running: without this
/// a "killed" replica would go on answering on its clients' keep-alive connections.
struct Killable {
    listener: TcpListener,
    killed: watch::Receiver<bool>,
    open: Arc<AtomicUsize>,
}

impl axum::serve::Listener for Killable {
    type Io = KillableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        let mut killed = self.killed.clone();
        self.open.fetch_add(1, Ordering::Relaxed);
        let stream = KillableStream {
            stream,
            // Also resolves when the sender is gone: a dropped replica is a dead one.
            killed: Box::pin(async move {
                let _ = killed.wait_for(|k| *k).await;
            }),
            dead: false,
            open: Arc::clone(&self.open),
        };
        (stream, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// A connection that errors on every read and write from the moment its replica is killed.
/// Each poll also polls the kill signal, so a connection idling in a read is woken by it.
struct KillableStream {
    stream: TcpStream,
    killed: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// The kill signal resolved (a finished future must not be polled again).
    dead: bool,
    /// The replica's count of open connections, which this one leaves when dropped.
    open: Arc<AtomicUsize>,
}

impl Drop for KillableStream {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl KillableStream {
    fn cut(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if !self.dead && self.killed.as_mut().poll(cx).is_ready() {
            self.dead = true;
        }
        self.dead
            .then(|| io::Error::new(io::ErrorKind::ConnectionReset, "the replica was killed"))
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.cut(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(e) = this.cut(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.cut(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(e) = this.cut(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}

/// A loopback TCP load balancer over the cluster's nodes: each connection goes to the first
/// node, in its order of preference, that accepts it, and lives and dies with that node.
pub struct Balancer {
    port: u16,
    /// Connections forwarded to each upstream, in the order given.
    forwarded: Arc<Vec<AtomicUsize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    async fn start(upstreams: Vec<SocketAddr>) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let forwarded: Arc<Vec<AtomicUsize>> =
            Arc::new(upstreams.iter().map(|_| AtomicUsize::new(0)).collect());
        let counts = Arc::clone(&forwarded);
        let task = tokio::spawn(async move {
            // Dropped with this task, aborting every forwarded connection.
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let upstreams = upstreams.clone();
                let counts = Arc::clone(&counts);
                connections.spawn(async move {
                    for (i, upstream) in upstreams.iter().enumerate() {
                        // A dead node refuses at once (its port is closed): try the next.
                        if let Ok(mut server) = TcpStream::connect(upstream).await {
                            counts[i].fetch_add(1, Ordering::Relaxed);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            return;
                        }
                    }
                });
                // Finished connections leave the set, so it does not grow with the test.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Balancer {
            port,
            forwarded,
            task,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many connections went to upstream `i` (0: the preferred node) so far.
    pub fn forwarded_to(&self, i: usize) -> usize {
        self.forwarded[i].load(Ordering::Relaxed)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
