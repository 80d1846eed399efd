//! The cache behind a mutex, used from async code through `spawn_blocking` so SQLite never
//! blocks the runtime. One writer at a time, as `confab-store` requires.

use std::sync::{Arc, Mutex};

use confab_store::{Store, StoreError};

use crate::error::CoreError;

/// A shared handle to one account's cache.
#[derive(Clone, Debug)]
pub(crate) struct Db(Arc<Mutex<Store>>);

impl Db {
    pub fn new(store: Store) -> Self {
        Db(Arc::new(Mutex::new(store)))
    }

    /// Runs `f` on the store on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.0);
        tokio::task::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .map_err(|_| CoreError::Internal("cache lock poisoned".into()))?;
            f(&mut guard).map_err(CoreError::from)
        })
        .await
        .map_err(|e| CoreError::Internal(format!("cache task failed: {e}")))?
    }
}
