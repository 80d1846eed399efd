//! The shell's commands as one typed call: `call(SendMessage { .. })` answers what the command
//! is declared to answer in `confab_model::ipc::commands` (the one declaration of the commands;
//! the shell registers and grants the same list, so a name or an argument cannot drift).

use confab_model::ipc::commands::{invoke_name, Command};
use confab_model::ipc::IpcError;

/// Calls command `C` with its arguments.
///
/// # Errors
/// The command's [`IpcError`] (its `message` is the sentence to show).
pub async fn call<C: Command>(args: C) -> Result<C::Output, IpcError> {
    crate::ipc::invoke(&invoke_name::<C>(), &args).await
}
