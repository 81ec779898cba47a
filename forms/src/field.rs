//! One form field: what it accepts, how it is labelled, which widget shows it.

use std::fmt;
use std::sync::Arc;

use tack_orm::TextFormat;

/// What kind of value a field takes; it picks the default widget and the
/// checks run on the submitted text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// Any text.
    Text,
    /// An e-mail address.
    Email,
    /// An absolute `http`/`https` URL.
    Url,
    /// Letters, digits, underscores and hyphens.
    Slug,
    /// A whole number.
    Integer,
    /// A decimal number.
    Float,
    /// A checkbox: checked or not.
    Boolean,
    /// A date, `2024-05-01`.
    Date,
    /// A date and time, `2024-05-01T09:30` (a browser's `datetime-local`).
    DateTime,
    /// A time of day, `09:30`.
    Time,
    /// One value out of the field's choices.
    Choice,
    /// Any number of values out of the field's choices.
    MultipleChoice,
    /// An uploaded file.
    File,
}

impl FieldKind {
    /// The widget a field of this kind gets unless it names one.
    pub fn default_widget(self) -> Widget {
        Widget::named(match self {
            FieldKind::Text | FieldKind::Slug => "text",
            FieldKind::Email => "email",
            FieldKind::Url => "url",
            FieldKind::Integer | FieldKind::Float => "number",
            FieldKind::Boolean => "checkbox",
            FieldKind::Date => "date",
            FieldKind::DateTime => "datetime",
            FieldKind::Time => "time",
            FieldKind::Choice => "select",
            FieldKind::MultipleChoice => "select_multiple",
            FieldKind::File => "file",
        })
    }

    /// Whether a value of this kind is many values (a multi-select).
    pub fn is_multiple(self) -> bool {
        self == FieldKind::MultipleChoice
    }
}

/// How a field is drawn: the template `forms/widgets/{name}.html`, and the
/// HTML attributes it adds to its element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Widget {
    /// The widget's name (`text`, `textarea`, `select`, ...), also the
    /// template's file name.
    pub name: String,
    /// Extra attributes (`rows`, `placeholder`, `autocomplete`, ...).
    pub attrs: Vec<(String, String)>,
}

impl Widget {
    /// The widget drawn by `forms/widgets/{name}.html`.
    pub fn named(name: impl Into<String>) -> Widget {
        Widget {
            name: name.into(),
            attrs: Vec::new(),
        }
    }

    /// Adds an HTML attribute.
    pub fn attr(mut self, name: impl Into<String>, value: impl Into<String>) -> Widget {
        self.attrs.push((name.into(), value.into()));
        self
    }

    /// The template that draws this widget.
    pub fn template(&self) -> String {
        format!("forms/widgets/{}.html", self.name)
    }

    /// Whether the widget is an `<input type="hidden">`.
    pub fn is_hidden(&self) -> bool {
        self.name == "hidden"
    }

    /// The `type` of the `<input>` this widget draws, when it is one.
    pub fn input_type(&self) -> Option<&'static str> {
        Some(match self.name.as_str() {
            "text" => "text",
            "password" => "password",
            "hidden" => "hidden",
            "email" => "email",
            "url" => "url",
            "number" => "number",
            "checkbox" => "checkbox",
            "date" => "date",
            "datetime" => "datetime-local",
            "time" => "time",
            "file" => "file",
            _ => return None,
        })
    }
}

/// One choice of a choice field: the submitted value and its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What the browser submits.
    pub value: String,
    /// What a person reads.
    pub label: String,
}

/// A check on a field's submitted text: `Err` holds the message shown
/// beside the field.
pub type Validator = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// A form field. Built by `#[derive(Form)]` from a struct field, or by
/// hand (`Field::new("q", FieldKind::Text).required(false)`), or by a model
/// form from a model's field.
#[derive(Clone)]
pub struct Field {
    /// The field's name: the key in the submitted data (before any prefix).
    pub name: String,
    /// The label (`Title`); defaults to the name in words.
    pub label: String,
    /// A sentence shown under the field.
    pub help_text: String,
    /// Whether an empty value is an error.
    pub required: bool,
    /// What kind of value it takes.
    pub kind: FieldKind,
    /// How it is drawn.
    pub widget: Widget,
    /// The value an unbound form shows (several for a multi-select).
    pub initial: Vec<String>,
    /// The least number of characters.
    pub min_length: Option<usize>,
    /// The most characters.
    pub max_length: Option<usize>,
    /// The least number (number fields).
    pub min: Option<f64>,
    /// The greatest number (number fields).
    pub max: Option<f64>,
    /// The allowed values, for choice fields.
    pub choices: Vec<Choice>,
    /// Shown but never taken from the submitted data (the initial value
    /// stays).
    pub disabled: bool,
    /// Further checks on the submitted text, run once the built-in ones pass.
    pub validators: Vec<Validator>,
    /// For a file field holding a stored file: where it is served (the
    /// widget links to it and offers to clear it).
    pub file_url: Option<String>,
}

impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("required", &self.required)
            .field("widget", &self.widget.name)
            .field("validators", &self.validators.len())
            .finish_non_exhaustive()
    }
}

/// `pub_date` as `Pub date`, as Django labels fields.
pub fn pretty_name(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Field {
    /// A required field of `kind`, labelled by its name, with the kind's
    /// default widget.
    pub fn new(name: impl Into<String>, kind: FieldKind) -> Field {
        let name = name.into();
        Field {
            label: pretty_name(&name),
            name,
            help_text: String::new(),
            required: kind != FieldKind::Boolean,
            kind,
            widget: kind.default_widget(),
            initial: Vec::new(),
            min_length: None,
            max_length: None,
            min: None,
            max: None,
            choices: Vec::new(),
            disabled: false,
            validators: Vec::new(),
            file_url: None,
        }
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Field {
        self.label = label.into();
        self
    }

    /// Sets the help text.
    pub fn help_text(mut self, text: impl Into<String>) -> Field {
        self.help_text = text.into();
        self
    }

    /// Whether an empty value is an error.
    pub fn required(mut self, required: bool) -> Field {
        self.required = required;
        self
    }

    /// Changes the kind; the widget follows unless one was chosen.
    pub fn kind(mut self, kind: FieldKind) -> Field {
        if self.widget == self.kind.default_widget() {
            self.widget = kind.default_widget();
        }
        self.kind = kind;
        self
    }

    /// Sets the widget (attributes added earlier stay).
    pub fn widget(mut self, mut widget: Widget) -> Field {
        widget.attrs.extend(std::mem::take(&mut self.widget.attrs));
        self.widget = widget;
        self
    }

    /// Adds HTML attributes to the widget (`[("autocomplete", "username")]`).
    pub fn attrs<K: Into<String>, V: Into<String>>(
        mut self,
        attrs: impl IntoIterator<Item = (K, V)>,
    ) -> Field {
        self.widget
            .attrs
            .extend(attrs.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Sets the value an unbound form shows.
    pub fn initial(mut self, value: impl Into<String>) -> Field {
        self.initial = vec![value.into()];
        self
    }

    /// Sets the values an unbound multi-select shows selected.
    pub fn initial_values(mut self, values: Vec<String>) -> Field {
        self.initial = values;
        self
    }

    /// The least number of characters.
    pub fn min_length(mut self, n: usize) -> Field {
        self.min_length = Some(n);
        self
    }

    /// The most characters (also the input's `maxlength`).
    pub fn max_length(mut self, n: usize) -> Field {
        self.max_length = Some(n);
        self
    }

    /// The least number.
    pub fn min(mut self, n: f64) -> Field {
        self.min = Some(n);
        self
    }

    /// The greatest number.
    pub fn max(mut self, n: f64) -> Field {
        self.max = Some(n);
        self
    }

    /// The allowed values with their labels (`&[("news", "News")]`, or any
    /// list of pairs). A text field becomes a choice field.
    pub fn choices<V, L>(mut self, choices: impl IntoIterator<Item = (V, L)>) -> Field
    where
        V: ToString,
        L: ToString,
    {
        self.choices = choices
            .into_iter()
            .map(|(value, label)| Choice {
                value: value.to_string(),
                label: label.to_string(),
            })
            .collect();
        if self.kind == FieldKind::Text {
            self = self.kind(FieldKind::Choice);
        }
        self
    }

    /// Shown, never changed by the submitted data.
    pub fn disabled(mut self, disabled: bool) -> Field {
        self.disabled = disabled;
        self
    }

    /// Adds a check on the submitted text.
    pub fn validator(
        mut self,
        check: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Field {
        self.validators.push(Arc::new(check));
        self
    }

    /// Runs this field's checks on what was submitted for it, as Django words
    /// the messages. An empty list means it is valid.
    pub fn check(&self, values: &[String], has_file: bool) -> Vec<String> {
        let texts: Vec<&str> = values
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let empty = match self.kind {
            FieldKind::File => !has_file,
            FieldKind::Boolean => !texts.first().is_some_and(|t| is_checked(t)),
            _ => texts.is_empty(),
        };
        if empty {
            return if self.required {
                vec![
                    match self.kind {
                        FieldKind::File => {
                            "No file was submitted. Check the encoding type on the form."
                        }
                        _ => "This field is required.",
                    }
                    .to_owned(),
                ]
            } else {
                Vec::new()
            };
        }
        if !self.kind.is_multiple() && texts.len() > 1 && self.kind != FieldKind::File {
            return vec!["Enter a single value.".to_owned()];
        }
        let mut errors = Vec::new();
        for text in &texts {
            if let Err(message) = self.check_one(text) {
                errors.push(message);
                break;
            }
        }
        if errors.is_empty() {
            for text in &texts {
                for validator in &self.validators {
                    if let Err(message) = validator(text) {
                        errors.push(message);
                    }
                }
            }
        }
        errors
    }

    fn check_one(&self, text: &str) -> Result<(), String> {
        let format = match self.kind {
            FieldKind::Email => Some(TextFormat::Email),
            FieldKind::Url => Some(TextFormat::Url),
            FieldKind::Slug => Some(TextFormat::Slug),
            _ => None,
        };
        if let Some(format) = format {
            format.check(text).map_err(str::to_owned)?;
        }
        match self.kind {
            FieldKind::Integer => {
                let n: i64 = text
                    .parse()
                    .map_err(|_| "Enter a whole number.".to_owned())?;
                self.check_bounds(n as f64)?;
            }
            FieldKind::Float => {
                let n: f64 = text
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or_else(|| "Enter a number.".to_owned())?;
                self.check_bounds(n)?;
            }
            FieldKind::Date => {
                crate::value::parse_date(text).ok_or_else(|| "Enter a valid date.".to_owned())?;
            }
            FieldKind::DateTime => {
                crate::value::parse_datetime(text)
                    .ok_or_else(|| "Enter a valid date/time.".to_owned())?;
            }
            FieldKind::Time => {
                crate::value::parse_time(text).ok_or_else(|| "Enter a valid time.".to_owned())?;
            }
            _ => {}
        }
        if !self.choices.is_empty() && !self.choices.iter().any(|c| c.value == text) {
            return Err(format!(
                "Select a valid choice. {text} is not one of the available choices."
            ));
        }
        let length = text.chars().count();
        if let Some(max) = self.max_length
            && length > max
        {
            return Err(format!(
                "Ensure this value has at most {max} character{} (it has {length}).",
                plural(max)
            ));
        }
        if let Some(min) = self.min_length
            && length < min
        {
            return Err(format!(
                "Ensure this value has at least {min} character{} (it has {length}).",
                plural(min)
            ));
        }
        Ok(())
    }

    fn check_bounds(&self, n: f64) -> Result<(), String> {
        if let Some(max) = self.max
            && n > max
        {
            return Err(format!(
                "Ensure this value is less than or equal to {}.",
                number(max)
            ));
        }
        if let Some(min) = self.min
            && n < min
        {
            return Err(format!(
                "Ensure this value is greater than or equal to {}.",
                number(min)
            ));
        }
        Ok(())
    }
}

/// Whether a checkbox's submitted text means checked (a browser sends
/// `on`; scripts send `true` or `1`).
pub(crate) fn is_checked(text: &str) -> bool {
    !matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "" | "false" | "0" | "off" | "no"
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `5` for 5.0, `0.5` for 0.5.
pub(crate) fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn checks_as_django_words_them() {
        let cases: Vec<(Field, &[&str], &[&str])> = vec![
            (
                Field::new("title", FieldKind::Text),
                &[],
                &["This field is required."],
            ),
            (
                Field::new("title", FieldKind::Text),
                &["   "],
                &["This field is required."],
            ),
            (
                Field::new("title", FieldKind::Text).required(false),
                &[],
                &[],
            ),
            (
                Field::new("title", FieldKind::Text).max_length(3),
                &["abcd"],
                &["Ensure this value has at most 3 characters (it has 4)."],
            ),
            (
                Field::new("title", FieldKind::Text).min_length(1),
                &["é"],
                &[],
            ),
            (
                Field::new("n", FieldKind::Integer),
                &["4.5"],
                &["Enter a whole number."],
            ),
            (
                Field::new("n", FieldKind::Integer).max(10.0),
                &["11"],
                &["Ensure this value is less than or equal to 10."],
            ),
            (
                Field::new("n", FieldKind::Float).min(0.5),
                &["0.25"],
                &["Ensure this value is greater than or equal to 0.5."],
            ),
            (
                Field::new("n", FieldKind::Float),
                &["NaN"],
                &["Enter a number."],
            ),
            (
                Field::new("d", FieldKind::Date),
                &["2024-02-30"],
                &["Enter a valid date."],
            ),
            (
                Field::new("e", FieldKind::Email),
                &["nobody"],
                &["Enter a valid email address."],
            ),
            (
                Field::new("c", FieldKind::Text).choices([("a", "A")]),
                &["b"],
                &["Select a valid choice. b is not one of the available choices."],
            ),
            (
                Field::new("c", FieldKind::Text),
                &["a", "b"],
                &["Enter a single value."],
            ),
            (
                Field::new("agree", FieldKind::Boolean).required(true),
                &[],
                &["This field is required."],
            ),
            (Field::new("agree", FieldKind::Boolean), &[], &[]),
            (
                Field::new("f", FieldKind::File),
                &[],
                &["No file was submitted. Check the encoding type on the form."],
            ),
            (
                Field::new("t", FieldKind::Text).validator(|t| {
                    if t.contains("spam") {
                        Err("No spam.".into())
                    } else {
                        Ok(())
                    }
                }),
                &["spam here"],
                &["No spam."],
            ),
        ];
        for (field, values, expected) in cases {
            assert_eq!(
                field.check(&strings(values), false),
                strings(expected),
                "{field:?} with {values:?}"
            );
        }
    }

    #[test]
    fn labels_are_the_name_in_words() {
        assert_eq!(pretty_name("pub_date"), "Pub date");
        assert_eq!(
            Field::new("first_name", FieldKind::Text).label,
            "First name"
        );
    }

    #[test]
    fn choices_make_a_select() {
        let field = Field::new("topic", FieldKind::Text).choices([("a", "A")]);
        assert_eq!(field.kind, FieldKind::Choice);
        assert_eq!(field.widget.name, "select");
        let textarea = Field::new("body", FieldKind::Text)
            .widget(Widget::named("textarea"))
            .kind(FieldKind::Email);
        assert_eq!(textarea.widget.name, "textarea");
    }
}
