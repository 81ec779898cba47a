//! `tack new NAME [--tack-path PATH] [--git URL]` writes a ready project
//! into ./NAME; `tack startapp NAME` (in a project) adds an app module.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  tack new NAME [--tack-path PATH | --git URL]
                   write a ready project into ./NAME: settings from the environment,
                   a model and its first migration, templates, static files, sessions,
                   CSRF, sign-in, the admin at /admin/ and a test (`cargo run` serves
                   it, `cargo test` passes). Tack's crates come from Tack's git
                   repository, or from a checkout at PATH
  tack startapp NAME
                   in a project made by `tack new`: add src/NAME/ with a model";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["new", name, rest @ ..] => source(rest).and_then(|source| {
            let dir = tack_cli::new_project(name, &PathBuf::from("."), &source).map_err(|e| e.to_string())?;
            Ok(format!(
                "Wrote the project {name} in {}.\nNext: cd {name} && cargo run  (then open http://127.0.0.1:8000)",
                dir.display()
            ))
        }),
        ["startapp", name] => tack_cli::start_app(&PathBuf::from("."), name)
            .map(|files| {
                let written: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
                format!(
                    "Wrote {}.\nNext: add {name}::models() to models::all(), then cargo run -- makemigrations",
                    written.join(", ")
                )
            })
            .map_err(|e| e.to_string()),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tack: {message}");
            ExitCode::FAILURE
        }
    }
}

fn source(options: &[&str]) -> Result<tack_cli::Source, String> {
    match options {
        [] => Ok(tack_cli::Source::default()),
        ["--tack-path", path] => std::fs::canonicalize(path)
            .map(tack_cli::Source::Path)
            .map_err(|e| format!("--tack-path {path}: {e}")),
        ["--git", url] => Ok(tack_cli::Source::Git((*url).to_owned())),
        _ => Err(USAGE.to_owned()),
    }
}
