//! `cargo run -p axum-blog`: the blog on <http://127.0.0.1:8001>, on
//! `BLOG_DATABASE_URL` (default `sqlite://axum-blog.sqlite3`).
//! `axum-blog makemigrations` (and the other migration commands) manage
//! its migrations; `BLOG_SUPERUSER=name:password` creates a superuser.

use std::net::SocketAddr;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("axum-blog: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let Some(started) = blog::start("axum-blog", "127.0.0.1:8001")? else {
        return Ok(());
    };
    let app = axum_blog::app(started.db, &started.secret).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let addr: SocketAddr = started
            .addr
            .parse()
            .map_err(|_| "BLOG_ADDR is not an address like 127.0.0.1:8001")?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        println!("axum-blog listening on http://{addr}");
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .map_err(|e| e.to_string())
    })
}
