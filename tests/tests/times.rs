//! Times as the user's desktop reads them: in Berlin, a message from before the October
//! daylight-saving change keeps its summer offset, and the clock follows the locale (12-hour in
//! American English, 24-hour in German). The time zone comes from the desktop and the hour
//! cycle is measured once per language and remembered: a restart in a new language measures
//! again, a restart in the same one reads the same times from what was remembered.

use std::ffi::OsString;

use anyhow::{ensure, Result};
use confab_e2e::steps::sign_in;
use confab_e2e::window::fresh_artifacts;
use confab_e2e::{in_desktop, AppWindow, Backend, Desktop, ADA, GRACE};

#[test]
fn times_keep_their_own_daylight_saving_offset_and_the_locales_clock() {
    in_desktop(
        "times_keep_their_own_daylight_saving_offset_and_the_locales_clock",
        local_times,
    );
}

async fn local_times(desktop: Desktop) -> Result<()> {
    let backend = Backend::start().await?;
    fresh_artifacts("times")?;
    let pair = backend.conversation_id(ADA, &[ADA, GRACE]).await?;
    let history = backend.api(ADA).await?.messages(pair, None, 50).await?;
    ensure!(history.len() >= 2, "the demo pair has history: {history:?}");
    // Both at 10:05 UTC: noon in Berlin's summer time on Saturday 24 October 2026, eleven in
    // winter time on Monday the 26th.
    backend
        .backdate_message(history[0].id, "2026-10-24T10:05:00Z")
        .await?;
    backend
        .backdate_message(history[1].id, "2026-10-26T10:05:00Z")
        .await?;
    let (email, password) = backend.credentials(ADA);

    // One data directory for every launch: German signs in, then American English starts from
    // the keyring with a language not yet remembered, then again with it remembered.
    let data = desktop.home().join("confab-times");
    let runs = [
        ("de_DE", "12:05", "11:05"),
        ("en_US", "12:05\u{a0}PM", "11:05\u{a0}AM"),
        ("en_US", "12:05\u{a0}PM", "11:05\u{a0}AM"),
    ];
    for (run, (lang, summer, winter)) in runs.into_iter().enumerate() {
        let env = [
            ("TZ", OsString::from("Europe/Berlin")),
            ("LANGUAGE", OsString::from(lang)),
            ("LANG", OsString::from(format!("{lang}.UTF-8"))),
        ];
        let mut app =
            AppWindow::launch_with_env(&desktop, &data, &backend.url(), "times", &env).await?;
        if run == 0 {
            sign_in(&mut app, &backend, &email, &password).await?;
        } else {
            app.wait_for(".sidebar").await?;
        }
        app.open_conversation(pair).await?;
        let first = history[0].content.clone();
        let list = app
            .wait_text("#message-list", |t| t.contains(first.as_str()))
            .await?;
        let times = app.texts("#message-list .time").await?;
        println!("run {run}, {lang}: {times:?}");
        ensure!(
            times.first().map(String::as_str) == Some(summer),
            "{lang}: the summer message reads {summer:?}: {times:?}"
        );
        ensure!(
            times.get(1).map(String::as_str) == Some(winter),
            "{lang}: the winter message reads {winter:?}: {times:?}"
        );
        ensure!(
            list.contains("Saturday") && list.contains("Monday"),
            "{lang}: a day separator for each: {list}"
        );
        app.screenshot(&format!("{run}-{lang}")).await?;
        app.quit().await?;
    }
    Ok(())
}
