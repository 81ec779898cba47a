//! Forms: fields bound to submitted data, their errors, and the typed result.

use std::collections::BTreeMap;

use crate::data::{FormData, UploadedFile};
use crate::field::{Field, FieldKind, is_checked};
use crate::value::{FormValue, Input};

/// A form's errors: messages per field, and for the form as a whole
/// (Django's `non_field_errors`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors {
    fields: Vec<(String, Vec<String>)>,
    form: Vec<String>,
}

impl Errors {
    /// No errors.
    pub fn new() -> Errors {
        Errors::default()
    }

    /// Records `message` beside `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.fields.iter_mut().find(|(name, _)| name == field) {
            Some((_, messages)) => messages.push(message),
            None => self.fields.push((field.to_owned(), vec![message])),
        }
    }

    /// Records a message about the whole form.
    pub fn add_form(&mut self, message: impl Into<String>) {
        self.form.push(message.into());
    }

    /// The messages beside one field.
    pub fn field(&self, name: &str) -> &[String] {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map_or(&[], |(_, messages)| messages.as_slice())
    }

    /// The messages about the whole form.
    pub fn form(&self) -> &[String] {
        &self.form
    }

    /// Each field with errors and its messages, in the order they were found.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.fields.iter().map(|(n, m)| (n.as_str(), m.as_slice()))
    }

    /// Whether there is no error at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.form.is_empty()
    }

    /// Takes the model's validation errors: those on a field of the form go
    /// beside it, the others are about the whole form.
    pub fn extend_from(&mut self, errors: &tack_orm::ValidationErrors, known: &[&str]) {
        for (field, messages) in errors.fields() {
            for message in messages {
                if known.contains(&field.as_str()) {
                    self.add(field, message.clone());
                } else if field == "__all__" || field.is_empty() {
                    self.add_form(message.clone());
                } else {
                    self.add_form(format!("{field}: {message}"));
                }
            }
        }
    }
}

/// What was submitted for one field.
#[derive(Debug, Clone, Default)]
struct Submitted {
    values: Vec<String>,
    file: Option<UploadedFile>,
}

/// A form without its Rust type: fields, the data bound to them, errors.
/// Typed forms ([`Bound`]), model forms and formsets are built on it, and
/// templates render it.
#[derive(Debug, Clone)]
pub struct FormState {
    fields: Vec<Field>,
    prefix: Option<String>,
    submitted: Option<BTreeMap<String, Submitted>>,
    errors: Errors,
}

impl FormState {
    /// An unbound form of these fields.
    pub fn new(fields: Vec<Field>) -> FormState {
        FormState {
            fields,
            prefix: None,
            submitted: None,
            errors: Errors::new(),
        }
    }

    /// Names every field `{prefix}-{name}` in the HTML and the data, so that
    /// several forms share one `<form>`.
    pub fn set_prefix(&mut self, prefix: impl Into<String>) {
        self.prefix = Some(prefix.into()).filter(|p: &String| !p.is_empty());
    }

    /// The prefix, if any.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// The name a field has in the HTML and the submitted data.
    pub fn html_name(&self, field: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}-{field}"),
            None => field.to_owned(),
        }
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// One field, to change it (label, widget, choices) before rendering.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.name == name)
    }

    /// One field.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Adds a field at the end.
    pub fn push_field(&mut self, field: Field) {
        self.fields.push(field);
    }

    /// Sets the value an unbound form shows for a field.
    pub fn set_initial(&mut self, field: &str, values: Vec<String>) {
        if let Some(field) = self.field_mut(field) {
            field.initial = values;
        }
    }

    /// Whether data was bound.
    pub fn is_bound(&self) -> bool {
        self.submitted.is_some()
    }

    /// The errors found so far.
    pub fn errors(&self) -> &Errors {
        &self.errors
    }

    /// The errors, to add to them.
    pub fn errors_mut(&mut self) -> &mut Errors {
        &mut self.errors
    }

    /// Adds an error: `None` puts it on the whole form.
    pub fn add_error(&mut self, field: Option<&str>, message: impl Into<String>) {
        match field {
            Some(field) => self.errors.add(field, message),
            None => self.errors.add_form(message),
        }
    }

    /// Whether the form is bound and has no error.
    pub fn is_valid(&self) -> bool {
        self.is_bound() && self.errors.is_empty()
    }

    /// Binds `data` and runs each field's checks. A disabled field keeps
    /// its initial value whatever was sent.
    pub fn bind(&mut self, data: &FormData) {
        let mut submitted = BTreeMap::new();
        for field in &self.fields {
            let name = self.html_name(&field.name);
            let entry = if field.disabled {
                Submitted {
                    values: field.initial.clone(),
                    file: None,
                }
            } else {
                Submitted {
                    values: data.values(&name).to_vec(),
                    file: data.file(&name).cloned(),
                }
            };
            submitted.insert(field.name.clone(), entry);
        }
        self.submitted = Some(submitted);
        self.errors = Errors::new();
        for field in &self.fields {
            let input = self.input(&field.name);
            for message in field.check(input.values, input.file.is_some()) {
                self.errors.add(&field.name, message);
            }
        }
    }

    /// What was submitted for a field (its initial value when unbound).
    pub fn input(&self, field: &str) -> Input<'_> {
        match self.submitted.as_ref().and_then(|s| s.get(field)) {
            Some(submitted) => Input {
                values: &submitted.values,
                file: submitted.file.as_ref(),
            },
            None => Input {
                values: self.field(field).map_or(&[], |f| f.initial.as_slice()),
                file: None,
            },
        }
    }

    /// Whether the submitted data differs from the initial values (an
    /// extra form of a formset left as it was is skipped).
    pub fn has_changed(&self) -> bool {
        let Some(submitted) = &self.submitted else {
            return false;
        };
        self.fields.iter().any(|field| {
            let Some(sent) = submitted.get(&field.name) else {
                return false;
            };
            match field.kind {
                FieldKind::Boolean => {
                    let checked = |v: &[String]| v.first().is_some_and(|t| is_checked(t));
                    checked(&sent.values) != checked(&field.initial)
                }
                FieldKind::File => sent.file.is_some(),
                _ => {
                    let trimmed = |v: &[String]| {
                        v.iter()
                            .map(|t| t.trim().to_owned())
                            .filter(|t| !t.is_empty())
                            .collect::<Vec<_>>()
                    };
                    trimmed(&sent.values) != trimmed(&field.initial)
                }
            }
        })
    }

    /// The form as a template value: `{{ form }}`, `{{ form.title }}`,
    /// `{{ form.title.errors }}`. See [`crate::install`].
    pub fn view(&self) -> minijinja::Value {
        crate::render::form_view(self)
    }
}

/// The fields of a form being cleaned into its Rust type; `#[derive(Form)]`
/// calls [`Cleaned::take`] once per field.
#[derive(Debug)]
pub struct Cleaned<'a> {
    state: &'a FormState,
    errors: &'a mut Errors,
}

impl Cleaned<'_> {
    /// The typed value of a field, or `None` when it has errors (recorded
    /// beside the field).
    pub fn take<T: FormValue>(&mut self, field: &str) -> Option<T> {
        if !self.errors.field(field).is_empty() {
            return None;
        }
        match T::clean(self.state.input(field)) {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.add(field, message);
                None
            }
        }
    }
}

/// A struct that is a form. Derive it (`#[derive(Form)]`): each struct field
/// is a form field, its Rust type picks the kind (see [`FormValue`]).
pub trait Form: Sized {
    /// The form's fields, in order.
    fn fields() -> Vec<Field>;

    /// The typed value from fields that passed their checks.
    fn from_cleaned(cleaned: &mut Cleaned<'_>) -> Option<Self>;

    /// Checks across fields, once each field is valid (Django's
    /// `Form.clean`): record problems in `errors`. With the derive, name a
    /// function with `#[form(clean = path)]`.
    fn clean(&mut self, errors: &mut Errors) {
        let _ = errors;
    }

    /// The unbound form, to show.
    fn form() -> Bound<Self> {
        Bound {
            state: FormState::new(Self::fields()),
            cleaned: None,
        }
    }

    /// The form bound to `data` and checked.
    fn bind(data: &FormData) -> Bound<Self> {
        Self::form().bind(data)
    }
}

/// A typed form, bound or not: its state, and the cleaned value once valid.
#[derive(Debug, Clone)]
pub struct Bound<F> {
    state: FormState,
    cleaned: Option<F>,
}

impl<F: Form> Bound<F> {
    /// Names the fields `{prefix}-{name}`.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.state.set_prefix(prefix);
        self
    }

    /// The value a field shows before anything is submitted.
    pub fn initial(mut self, field: &str, value: impl Into<String>) -> Self {
        self.state.set_initial(field, vec![value.into()]);
        self
    }

    /// Binds `data`, checks each field, builds the typed value and runs the
    /// form's `clean`.
    pub fn bind(mut self, data: &FormData) -> Self {
        self.state.bind(data);
        let mut errors = std::mem::take(&mut self.state.errors);
        let mut cleaned = F::from_cleaned(&mut Cleaned {
            state: &self.state,
            errors: &mut errors,
        });
        if errors.is_empty()
            && let Some(value) = cleaned.as_mut()
        {
            value.clean(&mut errors);
        }
        self.cleaned = cleaned.filter(|_| errors.is_empty());
        self.state.errors = errors;
        self
    }

    /// Whether the form is bound and valid.
    pub fn is_valid(&self) -> bool {
        self.cleaned.is_some()
    }

    /// The typed value, when valid.
    pub fn cleaned(&self) -> Option<&F> {
        self.cleaned.as_ref()
    }

    /// The typed value, or the form back with its errors to show again.
    #[allow(
        clippy::result_large_err,
        reason = "the form is handed back by value to be shown again; it is no hot path"
    )]
    pub fn into_cleaned(self) -> Result<F, Self> {
        match self.cleaned {
            Some(value) => Ok(value),
            None => Err(Bound {
                state: self.state,
                cleaned: None,
            }),
        }
    }

    /// The errors.
    pub fn errors(&self) -> &Errors {
        self.state.errors()
    }

    /// Adds an error after validation (a wrong password, say): the form is
    /// then invalid. `None` puts it on the whole form.
    pub fn add_error(&mut self, field: Option<&str>, message: impl Into<String>) {
        self.state.add_error(field, message);
        self.cleaned = None;
    }

    /// The untyped state (fields, data, errors).
    pub fn state(&self) -> &FormState {
        &self.state
    }

    /// The untyped state, to change fields before rendering.
    pub fn state_mut(&mut self) -> &mut FormState {
        &mut self.state
    }

    /// The form as a template value (see [`FormState::view`]).
    pub fn view(&self) -> minijinja::Value {
        self.state.view()
    }
}
