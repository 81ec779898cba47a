//! `cargo run -p axum-blog`: the blog on <http://127.0.0.1:8001>, on
//! `BLOG_DATABASE_URL` (default `sqlite://axum-blog.sqlite3`).
//! `axum-blog makemigrations` (and the other migration commands) manage
//! its migrations; `BLOG_SUPERUSER=name:password` creates a superuser.

use std::net::SocketAddr;
use std::path::Path;
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
    let url = std::env::var("BLOG_DATABASE_URL")
        .unwrap_or_else(|_| "sqlite://axum-blog.sqlite3".to_owned());
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        let models = axum_blog::models();
        let project = tack_orm::migrations::Project {
            app: axum_blog::APP,
            models: &models,
            folder: Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")),
            embedded: axum_blog::MIGRATIONS,
            batteries: axum_blog::BATTERIES,
        };
        let output = tack_orm::migrations::run_command(
            &project,
            || tack_orm::Database::connect(&url),
            &args,
        )
        .map_err(|e| e.to_string())?;
        if let Some(text) = output {
            println!("{text}");
        }
        return Ok(());
    }
    let db = axum_blog::open(&url).map_err(|e| e.to_string())?;
    if let Ok(superuser) = std::env::var("BLOG_SUPERUSER") {
        let (name, password) = superuser
            .split_once(':')
            .ok_or("BLOG_SUPERUSER is name:password")?;
        axum_blog::create_superuser(&db, name, password).map_err(|e| e.to_string())?;
    }
    // A development key: a deployment reads its own from the environment.
    let secret = std::env::var("BLOG_SECRET_KEY")
        .unwrap_or_else(|_| "axum-blog-development-key-change-me-0123456789abcdef".to_owned());
    let app = axum_blog::app(db, &secret).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let addr: SocketAddr = std::env::var("BLOG_ADDR")
            .unwrap_or_else(|_| "127.0.0.1:8001".to_owned())
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
