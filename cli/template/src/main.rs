//! `cargo run`: serves {{project}} on http://127.0.0.1:8000 (`ADDR`), on
//! `DATABASE_URL` (default `sqlite://{{project}}.sqlite3`), migrating it
//! first. `cargo run -- makemigrations` (and `migrate`, `showmigrations`,
//! ...) manage the migrations; `cargo run -- createsuperuser NAME PASSWORD`
//! makes a staff user for the admin.

use std::path::Path;
use std::process::ExitCode;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{{project}}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let settings = {{crate}}::Settings::from_env();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [command, username, password] = args.as_slice()
        && command == "createsuperuser"
    {
        let db = {{crate}}::open(&settings.database_url).map_err(|e| e.to_string())?;
        let user = tack_auth::create_superuser(
            username,
            "",
            &tack_auth::Password::new(password.as_str()),
            &tack_auth::Validators::default(),
            &tack_auth::PasswordHasher::new(),
        )
        .map_err(|e| e.to_string())?;
        tack_auth::db::insert_user(&db, user).map_err(|e| e.to_string())?;
        println!("created the superuser {username}");
        return Ok(());
    }
    if !args.is_empty() {
        let models = {{crate}}::models::all();
        let project = tack_orm::migrations::Project {
            app: {{crate}}::APP,
            models: &models,
            folder: Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")),
            embedded: {{crate}}::MIGRATIONS,
            batteries: {{crate}}::BATTERIES,
        };
        let connect = || tack_orm::Database::connect(&settings.database_url);
        let output =
            tack_orm::migrations::run_command(&project, connect, &args).map_err(|e| e.to_string())?;
        if let Some(text) = output {
            println!("{text}");
        }
        return Ok(());
    }
    let db = {{crate}}::open(&settings.database_url).map_err(|e| e.to_string())?;
    let app = {{crate}}::app(&settings, db).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&settings.addr)
            .await
            .map_err(|e| format!("cannot listen on {} (ADDR): {e}", settings.addr))?;
        println!("{{project}} listening on http://{}", settings.addr);
        loop {
            let (stream, peer) = listener.accept().await.map_err(|e| e.to_string())?;
            let service = app.clone().map_request(move |request: http::Request<hyper::body::Incoming>| {
                let mut request = request.map(tack_http::Body::new);
                request.extensions_mut().insert(tack_http::ClientInfo::direct(peer, false));
                request
            });
            tokio::spawn(async move {
                let _ = Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                    .await;
            });
        }
    })
}
