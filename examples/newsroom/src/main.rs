//! `cargo run -p newsroom [serve]`: the example app.

use std::process::ExitCode;

use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use newsroom::health::Readiness;
use newsroom::{Settings, app, app_with_readiness, checks};
use std::path::Path;
use tack_http::{Body, ClientInfo};
use tack_orm::migrations;
use tower::ServiceExt;

/// How long the channel layer gets to send the last broadcasts at exit.
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

const USAGE: &str = "usage: newsroom [COMMAND]

Commands:
  serve            serve the site (the default)
  check [--deploy] run the system checks; --deploy adds the deployment checks
  seed             put the demo data into an empty database
  createsuperuser --username U --email E
                   create a staff superuser (password from NEWSROOM_PASSWORD,
                   or asked for on a terminal)
  changepassword USERNAME
                   set a user's password (from NEWSROOM_PASSWORD, or asked for
                   twice on a terminal); signs out their sessions and tokens
  makemigrations, migrate, showmigrations, sqlmigrate, checkmigrations
                   the ORM's migration commands (see below)

Settings come from the environment:
  NEWSROOM_ADDR        listen address (default 127.0.0.1:8000)
  DATABASE_URL         sqlite://PATH or postgres://USER@HOST:PORT/DB (default sqlite://newsroom.sqlite3)
  NEWSROOM_SECRET_KEY  secret key (default: generated and stored beside the database)
  NEWSROOM_DEBUG       1 shows the debug error page (default off)
  NEWSROOM_ALLOWED_HOSTS    hosts this site answers for, comma separated
                            (default 127.0.0.1,localhost,[::1])
  NEWSROOM_MEDIA_ROOT       where uploads are kept (default: media beside the database)
  NEWSROOM_HTTPS_ONLY       1: always-Secure cookies, plain HTTP redirected to HTTPS
  NEWSROOM_TRUSTED_PROXIES  reverse proxies whose X-Forwarded-For is believed
                            (addresses or networks, comma separated)
  NEWSROOM_PROXY_SSL_HEADER how a trusted proxy says HTTPS (X-Forwarded-Proto: https)
  NEWSROOM_SHUTDOWN_TIMEOUT seconds in-flight requests get after SIGTERM or Ctrl-C
                            (default 30)
  NEWSROOM_CHANNEL_LAYER    what carries live comments between processes: memory,
                            postgres (the database's server), a postgres:// or a
                            redis:// URL (default: postgres on PostgreSQL, else memory)
  NEWSROOM_LOG         what is logged to standard error (default info; e.g.
                       warn,tack::request=info): one line per request, with the
                       causes of refusals and 5xx answers";

/// The migration subcommands, on `DATABASE_URL`: the source folder when it
/// exists (development), the migrations compiled in otherwise.
fn migration_command(args: &[String]) -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let models = newsroom::models::all();
    let project = migrations::Project {
        app: newsroom::db::APP,
        models: &models,
        folder: Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")),
        embedded: newsroom::db::MIGRATIONS,
        batteries: newsroom::db::BATTERIES,
    };
    let connect = || tack_orm::Database::connect(&settings.database_url);
    let output = migrations::run_command(&project, connect, args).map_err(|e| e.to_string())?;
    if let Some(text) = output {
        println!("{text}");
    }
    Ok(())
}

/// Logs to standard error, filtered by `NEWSROOM_LOG` (tracing's target
/// syntax: `info`, `warn,tack::request=info`, ...; default `info`).
fn init_logging() -> Result<(), String> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let spec = std::env::var("NEWSROOM_LOG").unwrap_or_else(|_| "info".to_owned());
    let filter: tracing_subscriber::filter::Targets = spec
        .parse()
        .map_err(|error| format!("NEWSROOM_LOG={spec:?} is not a log filter: {error}"))?;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(filter)
        .try_init()
        .map_err(|error| error.to_string())
}

fn main() -> ExitCode {
    if let Err(message) = init_logging() {
        eprintln!("newsroom: {message}");
        return ExitCode::FAILURE;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None | Some("serve") => serve(),
        Some("check") => check(&args[1..]),
        Some("createsuperuser") => {
            user_command(&args[1..], newsroom::accounts::create_superuser_command)
        }
        Some("changepassword") => {
            user_command(&args[1..], newsroom::accounts::change_password_command)
        }
        Some("seed") => seed(),
        Some(
            "makemigrations" | "migrate" | "showmigrations" | "sqlmigrate" | "checkmigrations",
        ) => migration_command(&args),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}\n\n{}", migrations::USAGE);
            Ok(())
        }
        Some(other) => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("newsroom: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `check [--deploy]`: prints each warning with its fix.
fn check(args: &[String]) -> Result<(), String> {
    let deploy = match args {
        [] => false,
        [flag] if flag == "--deploy" => true,
        _ => return Err(format!("check takes only --deploy, not {args:?}")),
    };
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    // The app must start: settings, database, templates and layers.
    app(&settings).map_err(|e| e.to_string())?;
    let warnings = if deploy {
        checks::deploy(&settings)
    } else {
        Vec::new()
    };
    for warning in &warnings {
        println!("WARNING {}: {}", warning.id, warning.message);
    }
    match warnings.len() {
        0 => println!("System check identified no issues."),
        n => println!("System check identified {n} issue(s)."),
    }
    Ok(())
}

/// `seed`: the demo data, into an empty database only.
fn seed() -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let db = newsroom::db::open_unseeded(&settings.database_url).map_err(|e| e.to_string())?;
    if newsroom::db::seed_if_empty(&db).map_err(|e| e.to_string())? {
        println!("Seeded 3 authors, 6 articles and their comments.");
    } else {
        println!("The database already has authors: nothing seeded.");
    }
    Ok(())
}

/// A user command: the database, its arguments and the password given.
type UserCommand = fn(&tack_orm::Database, &[String], Option<String>) -> Result<String, String>;

/// A user command (`createsuperuser`, `changepassword`) on the migrated
/// database, with the password from `NEWSROOM_PASSWORD` if set.
fn user_command(args: &[String], command: UserCommand) -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let db = newsroom::db::open(&settings.database_url).map_err(|e| e.to_string())?;
    let password = std::env::var("NEWSROOM_PASSWORD").ok();
    println!("{}", command(&db, args, password)?);
    Ok(())
}

fn serve() -> Result<(), String> {
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    if let Some(reason) = checks::refuse_to_serve(&settings) {
        return Err(reason);
    }
    let readiness = Readiness::default();
    let service = app_with_readiness(&settings, readiness.clone()).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.addr)
            .await
            .map_err(|e| format!("cannot listen on {} (NEWSROOM_ADDR): {e}", settings.addr))?;
        println!("newsroom listening on http://{}", settings.addr);
        let connections = GracefulShutdown::new();
        let builder = Builder::new(TokioExecutor::new());
        let stop = stop_signal();
        tokio::pin!(stop);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::error!(%error, "accepting a connection failed");
                        continue;
                    }
                },
                () = &mut stop => break,
            };
            let service = TowerToHyperService::new(service.clone().map_request(
                move |request: Request<Incoming>| {
                    let mut request = request.map(Body::new);
                    request
                        .extensions_mut()
                        .insert(ClientInfo::direct(peer, false));
                    request
                },
            ));
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            let connection = connections.watch(connection);
            tokio::spawn(async move {
                let _ = connection.await;
            });
        }
        // Stop accepting, say so to the load balancer, and let what is in
        // flight finish (idle keep-alive connections close at once).
        drop(listener);
        readiness.drain();
        let timeout = settings.shutdown_timeout;
        tracing::info!(
            timeout_s = timeout.as_secs(),
            "shutting down: finishing the requests in flight"
        );
        let sockets = readiness.clone();
        let finished = async move {
            connections.shutdown().await;
            // The websockets were sent 1001; give their close frames time out.
            while sockets.open() > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        match tokio::time::timeout(timeout, finished).await {
            Ok(()) => tracing::info!("every request finished"),
            Err(_) => tracing::warn!(
                "requests still running after {} s (NEWSROOM_SHUTDOWN_TIMEOUT) are cut",
                timeout.as_secs()
            ),
        }
        // The broadcasts of the last requests leave through the channel layer.
        let _ = tokio::task::spawn_blocking(move || readiness.finish(FLUSH_TIMEOUT)).await;
        tracing::info!("exiting");
        Ok(())
    })
}

/// Resolves on SIGTERM (an orchestrator stopping the process) or Ctrl-C.
async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
