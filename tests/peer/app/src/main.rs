//! The framework alone, for `bench_app`: a Tauri 2 window showing the Yew page of `../ui`, with
//! one command, `painted`, which the page calls after its second animation frame and which
//! prints `painted` for the bench. It renders as Confab does (non-composited without a GPU
//! render node). It never talks to a backend, keeps no data and is never shipped.

#[tauri::command]
fn painted() {
    println!("painted");
}

fn main() {
    // Confab's rendering choice (src-tauri/src/lib.rs), so the peer pays what Confab pays.
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    let gpu = std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    });
    if std::env::var_os(VAR).is_none() && !gpu {
        std::env::set_var(VAR, "1");
    }
    if let Err(e) = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![painted])
        .run(tauri::generate_context!())
    {
        eprintln!("tauri-hello: {e}");
        std::process::exit(1);
    }
}
