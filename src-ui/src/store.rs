//! The state handle every component reads: the app's reducer, shared through a context that
//! the root ([`crate::components::app`]) provides.

use yew::prelude::*;

use crate::state::AppState;

/// The state handle (read it, or dispatch an `Action` through it).
pub type Store = UseReducerHandle<AppState>;

/// The state's dispatcher, cheap to clone into closures.
pub type Dispatch = UseReducerDispatcher<AppState>;

/// Reads the store from context.
#[hook]
pub fn use_store() -> Store {
    use_context::<Store>().expect("components are rendered inside App")
}
