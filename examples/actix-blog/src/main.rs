//! `cargo run -p actix-blog`: the blog on <http://127.0.0.1:8002> (or
//! `BLOG_ADDR`), on `BLOG_DATABASE_URL` (default `sqlite://actix-blog.sqlite3`).
//! Arguments run the migration commands (`makemigrations`, `migrate`, ...);
//! `BLOG_SUPERUSER=name:password` creates a superuser.

use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("actix-blog: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let Some(started) = blog::start("actix-blog", "127.0.0.1:8002")? else {
        return Ok(());
    };
    let app =
        Arc::new(actix_blog::App::new(started.db, &started.secret).map_err(|e| e.to_string())?);
    let addr = started.addr;
    actix_web::rt::System::new().block_on(async move {
        let server = actix_web::HttpServer::new(move || {
            let app = app.clone();
            actix_web::App::new().configure(move |config| app.configure(config))
        })
        .bind(&addr)
        .map_err(|e| format!("cannot listen on {addr} (BLOG_ADDR): {e}"))?;
        println!("actix-blog listening on http://{addr}");
        server.run().await.map_err(|e| e.to_string())
    })
}
