//! A realistic page (a layout, a child template with blocks, an include per
//! article, 100 articles) rendered through tack-templates and through bare
//! minijinja in the same run.
//!
//! Run with `cargo bench -p tack-templates --bench render`.

use std::time::Duration;

use minijinja::value::Value;
use minijinja::{Environment, context, path_loader};
use tack_templates::Templates;

const BASE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{% block title %}Newsroom{% endblock %}</title>
<link rel="stylesheet" href="/static/css/site.css"></head>
<body>
<header class="site"><a class="brand" href="/">Newsroom</a>
<nav>{% for item in nav %}<a href="{{ item.href }}">{{ item.label }}</a>{% endfor %}</nav></header>
<main>{% block content %}{% endblock %}</main>
<footer class="site">{% block footer %}Newsroom, a Tack example app.{% endblock %}</footer>
</body></html>
"#;

const INDEX: &str = r#"{% extends "base.html" %}
{% block title %}Latest articles · {{ super() }}{% endblock %}
{% block content %}
<h1>Latest articles</h1>
<ul class="article-list">
{% for article in articles %}{% include "article_row.html" %}{% else %}<li>No articles yet.</li>{% endfor %}
</ul>
<nav class="pagination">Page {{ page.number }} of {{ page.count }}</nav>
{% endblock %}
"#;

const ROW: &str = r#"<li class="{{ loop.cycle('odd', 'even') }}">
  <h2><a href="/articles/{{ article.slug }}/">{{ article.title }}</a></h2>
  <p class="meta">by {{ article.author|title }} · {{ article.published_at }}
  {% if article.tags %}<span class="tags">{% for tag in article.tags %}<span class="tag">{{ tag }}</span>{% endfor %}</span>{% endif %}</p>
  <p>{{ article.body|trim|replace("ipsum", "ipsvm") }}</p>
  <p class="meta">{{ article.comments|length }} comments</p>
</li>
"#;

fn context() -> Value {
    let articles: Vec<Value> = (0..100)
        .map(|i| {
            context! {
                title => format!("Article number {i}: <tricky> & \"quoted\" title"),
                slug => format!("article-{i}"),
                author => format!("author {}", i % 3),
                published_at => format!("2024-05-{:02}T09:30:00Z", i % 28 + 1),
                body => "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(6),
                tags => vec!["rust", "web", "templates"],
                comments => vec![i; i % 5],
            }
        })
        .collect();
    context! {
        articles,
        page => context! { number => 1, count => 7 },
        nav => vec![
            context! { href => "/", label => "Articles" },
            context! { href => "/api/docs/", label => "API" },
        ],
    }
}

fn main() {
    let dir = std::env::temp_dir().join(format!("tack-templates-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
    for (name, text) in [
        ("base.html", BASE),
        ("index.html", INDEX),
        ("article_row.html", ROW),
    ] {
        std::fs::write(dir.join(name), text).expect("the temporary directory is writable");
    }

    let mut bare = Environment::new();
    bare.set_loader(path_loader(&dir));
    bare.set_auto_reload(false);
    let ours = Templates::builder()
        .dir(&dir)
        .build()
        .expect("the bench templates are valid");
    let request = http::Request::builder()
        .uri("/?page=1")
        .body(())
        .expect("a valid request");

    let ctx = context();
    let render_bare = || {
        bare.get_template("index.html")
            .and_then(|t| t.render(ctx.clone()))
            .expect("the bench page renders")
    };
    let render_ours = || {
        ours.render("index.html", ctx.clone())
            .expect("the bench page renders")
    };
    let render_request = || {
        ours.render_request(&request, "index.html", ctx.clone())
            .expect("the bench page renders")
    };
    assert_eq!(
        render_bare(),
        render_ours(),
        "both engines render the same page"
    );
    let bytes = render_ours().len();

    let (rounds, per_round) = (15, 200);
    // Interleave, so both see the same machine load; keep the best of each.
    let mut best = [Duration::MAX; 3];
    for _ in 0..3 {
        best[0] = best[0].min(tack_test::bench::fastest(rounds, per_round, render_bare));
        best[1] = best[1].min(tack_test::bench::fastest(rounds, per_round, render_ours));
        best[2] = best[2].min(tack_test::bench::fastest(rounds, per_round, render_request));
    }
    let _ = std::fs::remove_dir_all(&dir);

    let [bare_time, ours_time, request_time] = best;
    println!("page: 100 articles, layout + child + include per article, {bytes} bytes");
    println!("bare minijinja:                  {bare_time:>10.2?} per render");
    println!("tack-templates render:           {ours_time:>10.2?} per render");
    println!(
        "tack-templates render_request:   {request_time:>10.2?} per render (with request context)"
    );
    println!(
        "ratio render/bare: {:.3}x (target 1.05x); render_request/bare: {:.3}x",
        ours_time.as_secs_f64() / bare_time.as_secs_f64(),
        request_time.as_secs_f64() / bare_time.as_secs_f64()
    );
}
