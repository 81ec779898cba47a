//! Forms in templates: a bound form is a template value whose fields,
//! labels and errors print as HTML drawn by overridable templates.

use std::fmt;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr};
use minijinja::{Environment, Error, ErrorKind, Output, State, Template, Value};

use crate::field::{Field, is_checked};
use crate::form::FormState;

/// The templates forms are drawn with, by name, to add to a template
/// environment (`TemplatesBuilder::add_embedded(tack_forms::TEMPLATES)`).
/// A project overrides one by a file of the same name in its own template
/// directory (`forms/widgets/select.html`).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "forms/form.html",
        include_str!("../templates/forms/form.html"),
    ),
    (
        "forms/field.html",
        include_str!("../templates/forms/field.html"),
    ),
    (
        "forms/label.html",
        include_str!("../templates/forms/label.html"),
    ),
    (
        "forms/errors.html",
        include_str!("../templates/forms/errors.html"),
    ),
    (
        "forms/formset.html",
        include_str!("../templates/forms/formset.html"),
    ),
    (
        "forms/widgets/attrs.html",
        include_str!("../templates/forms/widgets/attrs.html"),
    ),
    (
        "forms/widgets/input.html",
        include_str!("../templates/forms/widgets/input.html"),
    ),
    ("forms/widgets/text.html", INPUT),
    ("forms/widgets/password.html", INPUT),
    ("forms/widgets/hidden.html", INPUT),
    ("forms/widgets/email.html", INPUT),
    ("forms/widgets/url.html", INPUT),
    ("forms/widgets/number.html", INPUT),
    ("forms/widgets/date.html", INPUT),
    ("forms/widgets/datetime.html", INPUT),
    ("forms/widgets/time.html", INPUT),
    (
        "forms/widgets/file.html",
        include_str!("../templates/forms/widgets/file.html"),
    ),
    (
        "forms/widgets/clearable_file.html",
        include_str!("../templates/forms/widgets/clearable_file.html"),
    ),
    (
        "forms/widgets/checkbox.html",
        include_str!("../templates/forms/widgets/checkbox.html"),
    ),
    (
        "forms/widgets/textarea.html",
        include_str!("../templates/forms/widgets/textarea.html"),
    ),
    (
        "forms/widgets/select.html",
        include_str!("../templates/forms/widgets/select.html"),
    ),
    (
        "forms/widgets/select_multiple.html",
        include_str!("../templates/forms/widgets/select.html"),
    ),
    (
        "forms/widgets/radio.html",
        include_str!("../templates/forms/widgets/radio.html"),
    ),
    (
        "forms/widgets/checkboxes.html",
        include_str!("../templates/forms/widgets/radio.html"),
    ),
];

const INPUT: &str = r#"{% include "forms/widgets/input.html" %}"#;

/// Lets `env` print forms: `{{ form }}`, `{{ form.title }}` (the widget),
/// `{{ form.title.label_tag }}` and `{{ form.title.errors }}` become HTML
/// drawn by the `forms/...` templates (the environment's own when it has
/// them, else [`TEMPLATES`]); every other value prints as before, escaped.
/// `{{ form }}` adds the CSRF field when the context has a `csrf_token`.
///
/// This sets the environment's formatter: call it after any formatter of
/// your own would be set.
pub fn install(env: &mut Environment<'_>) {
    env.set_formatter(format_value);
}

fn format_value(
    out: &mut Output<'_>,
    state: &mut State<'_, '_>,
    value: &Value,
) -> Result<(), Error> {
    match printed(state.env(), Some(state), value)? {
        Some(html) => out.write_str(&html).map_err(Error::from),
        None => minijinja::escape_formatter(out, state, value),
    }
}

/// The HTML of a form value, or `None` for any other value.
fn printed(
    env: &Environment<'_>,
    state: Option<&State<'_, '_>>,
    value: &Value,
) -> Result<Option<String>, Error> {
    let (name, context) = if value.downcast_object_ref::<FormView>().is_some() {
        let csrf = state
            .and_then(|s| s.lookup("csrf_token"))
            .filter(|t| !t.is_undefined() && !t.is_none())
            .map(|t| t.to_string());
        (
            "forms/form.html".to_owned(),
            minijinja::context! { form => value.clone(), csrf_token => csrf },
        )
    } else if let Some(field) = value.downcast_object_ref::<FieldView>() {
        (
            field.field().widget.template(),
            minijinja::context! { field => value.clone() },
        )
    } else if let Some(label) = value.downcast_object_ref::<LabelView>() {
        (
            "forms/label.html".to_owned(),
            minijinja::context! { field => Value::from_object(label.0.clone()) },
        )
    } else if let Some(errors) = value.downcast_object_ref::<ErrorList>() {
        if errors.0.is_empty() {
            return Ok(Some(String::new()));
        }
        (
            "forms/errors.html".to_owned(),
            minijinja::context! { errors => errors.0.clone() },
        )
    } else if value.downcast_object_ref::<FormSetView>().is_some() {
        let csrf = state
            .and_then(|s| s.lookup("csrf_token"))
            .filter(|t| !t.is_undefined() && !t.is_none())
            .map(|t| t.to_string());
        (
            "forms/formset.html".to_owned(),
            minijinja::context! { formset => value.clone(), csrf_token => csrf },
        )
    } else {
        return Ok(None);
    };
    template(env, &name)?.render(context).map(Some)
}

/// `name` from `env`, or from the built-in templates when `env` has none.
fn template<'e>(env: &'e Environment<'_>, name: &str) -> Result<Template<'e, 'e>, Error> {
    match env.get_template(name) {
        Err(error) if error.kind() == ErrorKind::TemplateNotFound => fallback().get_template(name),
        found => found,
    }
}

fn fallback() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .expect("the built-in form templates parse (a unit test renders each)");
        }
        install(&mut env);
        env
    })
}

/// Renders a form value with the built-in templates, for `Display` when no
/// environment is at hand.
fn render_standalone(value: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match printed(fallback(), None, value) {
        Ok(Some(html)) => f.write_str(&html),
        Ok(None) => Ok(()),
        Err(error) => write!(f, "<!-- form rendering failed: {error} -->"),
    }
}

pub(crate) fn form_view(state: &FormState) -> Value {
    let state = Arc::new(state.clone());
    let fields = (0..state.fields().len())
        .map(|index| Value::from_object(FieldView::new(state.clone(), index)))
        .collect();
    Value::from_object(FormView { state, fields })
}

/// A form in a template.
#[derive(Debug, Clone)]
pub(crate) struct FormView {
    state: Arc<FormState>,
    /// Each field's view, made once (templates read fields many times).
    fields: Vec<Value>,
}

impl FormView {
    fn fields(&self, hidden: bool) -> Value {
        let fields: Vec<Value> = self
            .state
            .fields()
            .iter()
            .zip(&self.fields)
            .filter(|(field, _)| field.widget.is_hidden() == hidden)
            .map(|(_, view)| view.clone())
            .collect();
        Value::from(fields)
    }
}

impl Object for FormView {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        if let Some(index) = self.state.fields().iter().position(|f| f.name == key) {
            return Some(self.fields[index].clone());
        }
        Some(match key {
            "visible_fields" | "fields" => self.fields(false),
            "hidden_fields" => self.fields(true),
            "non_field_errors" => {
                Value::from_object(ErrorList(self.state.errors().form().to_vec()))
            }
            "errors" => {
                let errors = self.state.errors();
                let mut map: std::collections::BTreeMap<String, Value> = errors
                    .fields()
                    .map(|(name, messages)| {
                        (
                            name.to_owned(),
                            Value::from_object(ErrorList(messages.to_vec())),
                        )
                    })
                    .collect();
                if !errors.form().is_empty() {
                    map.insert(
                        "__all__".to_owned(),
                        Value::from_object(ErrorList(errors.form().to_vec())),
                    );
                }
                Value::from(map)
            }
            "prefix" => Value::from(self.state.prefix()),
            "is_bound" => Value::from(self.state.is_bound()),
            "is_valid" => Value::from(self.state.is_valid()),
            "has_errors" => Value::from(!self.state.errors().is_empty()),
            _ => return None,
        })
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render_standalone(&Value::from_dyn_object(self.clone()), f)
    }
}

/// One field of a form in a template; prints as its widget. What templates
/// read most is computed once, when the view is made.
#[derive(Debug, Clone)]
pub(crate) struct FieldView {
    state: Arc<FormState>,
    index: usize,
    name: Value,
    auto_id: Value,
    errors: Value,
    has_errors: bool,
    value: Value,
}

impl FieldView {
    fn new(state: Arc<FormState>, index: usize) -> FieldView {
        let field = &state.fields()[index];
        let name = state.html_name(&field.name);
        let auto_id = Value::from(format!("id_{name}"));
        let messages = state.errors().field(&field.name);
        let has_errors = !messages.is_empty();
        let errors = Value::from_object(ErrorList(messages.to_vec()));
        let shown = !matches!(
            field.widget.name.as_str(),
            "password" | "file" | "clearable_file"
        );
        let value = Value::from(
            state
                .input(&field.name)
                .values
                .first()
                .filter(|_| shown)
                .cloned(),
        );
        FieldView {
            index,
            name: Value::from(name),
            auto_id,
            errors,
            has_errors,
            value,
            state,
        }
    }

    fn field(&self) -> &Field {
        &self.state.fields()[self.index]
    }

    fn values(&self) -> &[String] {
        self.state.input(&self.field().name).values
    }
}

impl Object for FieldView {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let field = self.field();
        Some(match key.as_str()? {
            "name" | "html_name" => self.name.clone(),
            "auto_id" | "id_for_label" => self.auto_id.clone(),
            "errors" => self.errors.clone(),
            "has_errors" => Value::from(self.has_errors),
            "value" => self.value.clone(),
            "field" => Value::from(field.name.as_str()),
            "label" => Value::from(field.label.as_str()),
            "label_tag" => Value::from_object(LabelView(self.as_ref().clone())),
            "help_text" => Value::from(field.help_text.as_str()),
            "values" => Value::from(self.values().to_vec()),
            "checked" => Value::from(self.values().first().is_some_and(|v| is_checked(v))),
            "required" => Value::from(field.required),
            "disabled" => Value::from(field.disabled),
            "is_hidden" => Value::from(field.widget.is_hidden()),
            "widget_type" => Value::from(field.widget.name.as_str()),
            "input_type" => Value::from(field.widget.input_type()),
            "multiple" => Value::from(field.kind.is_multiple()),
            "kind" => Value::from(format!("{:?}", field.kind).to_lowercase()),
            "step" => Value::from(match field.kind {
                crate::FieldKind::Float => Some("any"),
                _ => None,
            }),
            "attrs" => Value::from(
                field
                    .widget
                    .attrs
                    .iter()
                    .map(|(k, v)| {
                        Value::from(vec![Value::from(k.as_str()), Value::from(v.as_str())])
                    })
                    .collect::<Vec<_>>(),
            ),
            "choices" => {
                let values = self.values();
                let name = self.name.as_str().unwrap_or_default();
                Value::from(
                    field
                        .choices
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            minijinja::context! {
                                value => c.value.as_str(),
                                label => c.label.as_str(),
                                selected => values.iter().any(|v| v.trim() == c.value),
                                id => format!("id_{name}_{i}"),
                            }
                        })
                        .collect::<Vec<_>>(),
                )
            }
            "file_url" => Value::from(field.file_url.as_deref()),
            "current" => Value::from(field.initial.first().map(String::as_str)),
            "max_length" => Value::from(field.max_length),
            "min_length" => Value::from(field.min_length),
            "min" => Value::from(field.min.map(crate::field::number)),
            "max" => Value::from(field.max.map(crate::field::number)),
            _ => return None,
        })
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render_standalone(&Value::from_dyn_object(self.clone()), f)
    }
}

/// A field's `<label>`.
#[derive(Debug)]
struct LabelView(FieldView);

impl Object for LabelView {
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render_standalone(&Value::from_dyn_object(self.clone()), f)
    }
}

/// A list of error messages: iterable, and printed as `<ul class="errorlist">`.
#[derive(Debug)]
pub(crate) struct ErrorList(pub(crate) Vec<String>);

impl Object for ErrorList {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0.get(key.as_usize()?).cloned().map(Value::from)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render_standalone(&Value::from_dyn_object(self.clone()), f)
    }
}

/// A formset in a template: its management fields, its forms and the
/// errors about the set.
#[derive(Debug, Clone)]
pub(crate) struct FormSetView {
    pub(crate) management: Value,
    pub(crate) forms: Vec<Value>,
    pub(crate) empty_form: Value,
    pub(crate) errors: Vec<String>,
    pub(crate) prefix: String,
}

impl Object for FormSetView {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "management_form" => self.management.clone(),
            "forms" => Value::from(self.forms.clone()),
            "empty_form" => self.empty_form.clone(),
            "non_form_errors" => Value::from_object(ErrorList(self.errors.clone())),
            "prefix" => Value::from(self.prefix.clone()),
            _ => return None,
        })
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render_standalone(&Value::from_dyn_object(self.clone()), f)
    }
}
