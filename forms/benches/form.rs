//! A contact form bound to a submission with an error, checked and drawn by
//! tack-forms (`Form::bind` and `{{ form }}`), beside the same HTML from a
//! hand-written minijinja template fed with hand-checked values.
//!
//! Run with `cargo bench -p tack-forms --bench form`.

use std::time::Duration;

use minijinja::{Environment, context};
use tack_forms::{Form, FormData};

#[derive(Debug, Form)]
#[allow(
    dead_code,
    reason = "the bench draws the form; it never reads the struct"
)]
struct Contact {
    #[form(max_length = 100)]
    name: String,
    #[form(email)]
    email: String,
    #[form(choices = [("news", "News"), ("sport", "Sport"), ("other", "Other")])]
    topic: String,
    #[form(widget = "textarea", max_length = 2000)]
    message: String,
}

const BARE: &str = r#"<div class="field required">
  <label for="id_name">Name</label>
  <input type="text" name="name" id="id_name" value="{{ name }}" maxlength="100" required>
</div>
<div class="field{% if email_errors %} has-errors{% endif %} required">
  <label for="id_email">Email</label>
  <input type="email" name="email" id="id_email" value="{{ email }}" required{% if email_errors %} aria-invalid="true"{% endif %}>
  {%- if email_errors %}
  <ul class="errorlist">{% for e in email_errors %}<li>{{ e }}</li>{% endfor %}</ul>
  {%- endif %}
</div>
<div class="field required">
  <label for="id_topic">Topic</label>
  <select name="topic" id="id_topic" required>{% for c in topics %}<option value="{{ c[0] }}"{% if c[0] == topic %} selected{% endif %}>{{ c[1] }}</option>{% endfor %}</select>
</div>
<div class="field required">
  <label for="id_message">Message</label>
  <textarea name="message" id="id_message" cols="40" rows="10" maxlength="2000" required>
{{ message }}</textarea>
</div>"#;

fn main() {
    let body =
        b"name=Ada+%3CLovelace%3E&email=ada-at-example&topic=sport&message=Hello+%26+welcome";
    // As a project sets it up: the form templates in the environment.
    let mut ours = Environment::new();
    for (name, source) in tack_forms::TEMPLATES {
        ours.add_template(name, source).expect("parses");
    }
    tack_forms::install(&mut ours);
    ours.add_template("page.html", "{{ form }}")
        .expect("parses");
    let mut bare = Environment::new();
    bare.add_template("page.html", BARE).expect("parses");

    let run_ours = || {
        let form = Contact::bind(&FormData::from_urlencoded(body));
        ours.get_template("page.html")
            .and_then(|t| t.render(context! { form => form.view() }))
            .expect("renders")
    };
    let run_bare = || {
        // The same work by hand: decode, check the e-mail, draw.
        let data = FormData::from_urlencoded(body);
        let email = data.get("email").unwrap_or("");
        let email_errors: Vec<&str> = if email.contains('@') {
            Vec::new()
        } else {
            vec!["Enter a valid email address."]
        };
        bare.get_template("page.html")
            .and_then(|t| {
                t.render(context! {
                    name => data.get("name"),
                    email => email,
                    email_errors => email_errors,
                    topic => data.get("topic"),
                    topics => vec![("news", "News"), ("sport", "Sport"), ("other", "Other")],
                    message => data.get("message"),
                })
            })
            .expect("renders")
    };
    assert_eq!(
        run_ours().trim(),
        run_bare().trim(),
        "both draw the same HTML"
    );
    let bytes = run_ours().len();

    let (rounds, per_round) = (15, 500);
    let mut best = [Duration::MAX; 2];
    for _ in 0..3 {
        best[0] = best[0].min(tack_test::bench::fastest(rounds, per_round, run_bare));
        best[1] = best[1].min(tack_test::bench::fastest(rounds, per_round, run_ours));
    }
    let [bare_time, ours_time] = best;
    println!("contact form, 4 fields, one error, {bytes} bytes of HTML");
    println!("hand-written (decode, check, bare minijinja): {bare_time:>10.2?} per form");
    println!("tack-forms (bind, clean, {{{{ form }}}}):         {ours_time:>10.2?} per form");
    println!(
        "ratio tack-forms/hand-written: {:.2}x",
        ours_time.as_secs_f64() / bare_time.as_secs_f64()
    );
}
