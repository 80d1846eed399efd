//! Channel authorization in batches: the subscriptions of one burst (every room at connect, a
//! big team's 2,000) are signed with one `POST /api/pusher/auth/batch` (500 channels a request
//! at most) instead of one request each, which competed with the window for the CPU.
//!
//! Each channel still gets its own answer: signed, or refused with the 403 its single request
//! would have had, so the Pusher client treats a refused room as before. When the batch
//! request itself fails (a backend without the endpoint, the network, a 5xx), the channels of
//! that batch take the single endpoint one by one, with its retries. What it never does: sign
//! anything itself, or decide who may subscribe (the backend does).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use confab_model::api::{PusherBatchAuthRequest, PusherBatchAuthResponse, PUSHER_BATCH_MAX};
use pusher_channels::auth::{AuthFuture, Authorizer, HeaderProvider, HttpAuthorizer};
use pusher_channels::proto::AuthError;
use pusher_channels::sign::{ChannelAuthorization, UserAuthentication};
use tokio::sync::oneshot;

/// How long the first request of a burst waits for the rest of it: the client asks for every
/// channel of a connect in the same moment, so a few milliseconds gather them all.
const GATHER: Duration = Duration::from_millis(5);

type Answer = Result<ChannelAuthorization, AuthError>;

/// One channel waiting for its signature.
struct Waiting {
    socket_id: String,
    channel: String,
    answer: oneshot::Sender<Answer>,
}

/// An [`Authorizer`] that gathers channel requests into batches (user authentication and the
/// fallback go through `single`).
#[derive(Clone)]
pub struct BatchAuthorizer {
    single: Arc<HttpAuthorizer>,
    http: reqwest::Client,
    url: String,
    headers: HeaderProvider,
    waiting: Arc<Mutex<Vec<Waiting>>>,
}

impl BatchAuthorizer {
    /// Batches to `url` with `http` and `headers`; `single` for the rest.
    pub fn new(
        single: HttpAuthorizer,
        http: reqwest::Client,
        url: String,
        headers: HeaderProvider,
    ) -> Self {
        BatchAuthorizer {
            single: Arc::new(single),
            http,
            url,
            headers,
            waiting: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Takes what waits and answers it, a batch per socket and per 500 channels.
    async fn flush(&self) {
        let waiting = match self.waiting.lock() {
            Ok(mut w) => std::mem::take(&mut *w),
            Err(_) => return,
        };
        let mut by_socket: BTreeMap<String, Vec<Waiting>> = BTreeMap::new();
        for w in waiting {
            by_socket.entry(w.socket_id.clone()).or_default().push(w);
        }
        for (socket_id, mut group) in by_socket {
            while !group.is_empty() {
                let batch = group.drain(..group.len().min(PUSHER_BATCH_MAX)).collect();
                self.answer(&socket_id, batch).await;
            }
        }
    }

    /// Signs one batch and hands each channel its answer.
    async fn answer(&self, socket_id: &str, batch: Vec<Waiting>) {
        let body = PusherBatchAuthRequest {
            socket_id: socket_id.to_owned(),
            channel_names: batch.iter().map(|w| w.channel.clone()).collect(),
        };
        match self.post(&body).await {
            Ok(signed) => {
                for w in batch {
                    // Looked up, not taken: a channel asked for twice gets its answer twice.
                    let answer = match signed.channels.get(&w.channel).cloned() {
                        Some(a) => match a.auth {
                            Some(auth) => Ok(ChannelAuthorization {
                                auth,
                                channel_data: a.channel_data,
                                shared_secret: None,
                            }),
                            None => Err(AuthError {
                                status: Some(403),
                                message: a.error.unwrap_or_else(|| "refused".into()),
                            }),
                        },
                        None => Err(AuthError {
                            status: None,
                            message: "the batch's answer left this channel out".into(),
                        }),
                    };
                    let _ = w.answer.send(answer);
                }
            }
            // The caller's token is refused: every channel of it is (the session ends).
            Err(e) if e.status == Some(401) => {
                for w in batch {
                    let _ = w.answer.send(Err(e.clone()));
                }
            }
            // No batch endpoint, or no answer: one request a channel, as before, with retries.
            Err(e) => {
                tracing::debug!(status = ?e.status, "batch channel auth failed; one by one");
                for w in batch {
                    let single = Arc::clone(&self.single);
                    tokio::spawn(async move {
                        let answer = single.authorize_channel(&w.socket_id, &w.channel).await;
                        let _ = w.answer.send(answer);
                    });
                }
            }
        }
    }

    async fn post(
        &self,
        body: &PusherBatchAuthRequest,
    ) -> Result<PusherBatchAuthResponse, AuthError> {
        let mut req = self.http.post(&self.url).json(body);
        for (k, v) in (self.headers)() {
            req = req.header(k, v);
        }
        let resp = req.send().await.map_err(|e| AuthError {
            status: None,
            message: format!("auth endpoint unreachable: {e}"),
        })?;
        let status = resp.status();
        if !status.is_success() {
            return Err(AuthError {
                status: Some(status.as_u16()),
                message: "the batch was refused".into(),
            });
        }
        resp.json().await.map_err(|e| AuthError {
            status: None,
            message: format!("unreadable batch auth response: {e}"),
        })
    }
}

impl Authorizer for BatchAuthorizer {
    fn authorize_channel<'a>(
        &'a self,
        socket_id: &'a str,
        channel: &'a str,
    ) -> AuthFuture<'a, ChannelAuthorization> {
        Box::pin(async move {
            let (answer, answered) = oneshot::channel();
            let first = {
                let Ok(mut w) = self.waiting.lock() else {
                    return Err(AuthError {
                        status: None,
                        message: "the batch queue is broken".into(),
                    });
                };
                w.push(Waiting {
                    socket_id: socket_id.to_owned(),
                    channel: channel.to_owned(),
                    answer,
                });
                w.len() == 1
            };
            if first {
                let this = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(GATHER).await;
                    this.flush().await;
                });
            }
            answered.await.unwrap_or_else(|_| {
                Err(AuthError {
                    status: None,
                    message: "the batch was dropped".into(),
                })
            })
        })
    }

    fn authenticate_user<'a>(&'a self, socket_id: &'a str) -> AuthFuture<'a, UserAuthentication> {
        self.single.authenticate_user(socket_id)
    }
}
