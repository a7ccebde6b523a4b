//! A Python literal read from run-tests.py's tokens (strings with implicit
//! concatenation, numbers, `True`/`False`/`None`, tuples, lists, dicts); what is not a
//! literal reads as the strings inside it.

use super::pylex::{Spanned, Tok};

/// The literal the tokens begin with.
pub(crate) fn literal(toks: &[Spanned]) -> Value {
    Parser { toks, pos: 0 }.value()
}

/// A Python literal value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    Seq(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// Something that is not a literal (a call, a name, a comprehension): the strings
    /// found inside it, in order.
    Other(Vec<String>),
}

impl Value {
    /// Every string in the value, in order (dict keys and values included).
    pub(crate) fn strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(&self, out: &mut Vec<String>) {
        match self {
            Value::Str(s) => out.push(s.clone()),
            Value::Seq(v) => v.iter().for_each(|x| x.collect(out)),
            Value::Dict(kv) => kv.iter().for_each(|(k, v)| {
                k.collect(out);
                v.collect(out)
            }),
            Value::Other(s) => out.extend(s.iter().cloned()),
            Value::Int(_) | Value::Bool(_) | Value::None => {}
        }
    }

    /// The value of a dict entry whose key equals `key`.
    pub(crate) fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Dict(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// A parser over tokens for one literal.
struct Parser<'a> {
    toks: &'a [Spanned],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if o == op)
    }

    /// One value; at the end, the parser stands after it.
    fn value(&mut self) -> Value {
        let Some(tok) = self.peek().cloned() else {
            return Value::Other(Vec::new());
        };
        let v = match tok {
            Tok::Str(mut s) => {
                self.pos += 1;
                // Implicit concatenation: "a" "b".
                while let Some(Tok::Str(more)) = self.peek() {
                    s.push_str(more);
                    self.pos += 1;
                }
                Value::Str(s)
            }
            Tok::Int(n) => {
                self.pos += 1;
                Value::Int(n)
            }
            Tok::Name(n) if n == "True" || n == "False" => {
                self.pos += 1;
                Value::Bool(n == "True")
            }
            Tok::Name(n) if n == "None" => {
                self.pos += 1;
                Value::None
            }
            Tok::Op(o) if o == "(" || o == "[" => self.sequence(if o == "(" { ")" } else { "]" }),
            Tok::Op(o) if o == "{" => self.dict(),
            _ => return self.other(),
        };
        // A literal followed by more expression (a call, an operator) is not a literal.
        if self.is_op(",")
            || self.is_op(":")
            || self.is_op(")")
            || self.is_op("]")
            || self.is_op("}")
            || self.peek().is_none()
        {
            v
        } else {
            let mut rest = v.strings();
            if let Value::Other(more) = self.other() {
                rest.extend(more);
            }
            Value::Other(rest)
        }
    }

    /// Skips an expression up to the next `,` `:` or closing bracket at this depth,
    /// keeping the strings inside it.
    fn other(&mut self) -> Value {
        let mut depth = 0usize;
        let mut strings = Vec::new();
        while let Some(t) = self.peek().cloned() {
            match &t {
                Tok::Op(o) if ["(", "[", "{"].contains(&o.as_str()) => depth += 1,
                Tok::Op(o) if [")", "]", "}"].contains(&o.as_str()) => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                Tok::Op(o) if depth == 0 && (o == "," || o == ":") => break,
                Tok::Str(s) => strings.push(s.clone()),
                _ => {}
            }
            self.pos += 1;
        }
        Value::Other(strings)
    }

    fn sequence(&mut self, close: &str) -> Value {
        self.pos += 1;
        let mut items = Vec::new();
        let mut comprehension = false;
        while self.peek().is_some() && !self.is_op(close) {
            if matches!(self.peek(), Some(Tok::Name(n)) if n == "for") {
                comprehension = true;
            }
            let v = self.value();
            items.push(v);
            if self.is_op(",") {
                self.pos += 1;
            } else if !self.is_op(close) {
                // Not a plain sequence (e.g. `x for x in ...`): keep skipping.
                comprehension = true;
                self.pos += 1;
            }
        }
        self.pos += 1;
        // A parenthesised single value without a comma is that value.
        if comprehension {
            return Value::Other(Value::Seq(items).strings());
        }
        Value::Seq(items)
    }

    fn dict(&mut self) -> Value {
        self.pos += 1;
        let mut kv = Vec::new();
        while self.peek().is_some() && !self.is_op("}") {
            let k = self.value();
            if self.is_op(":") {
                self.pos += 1;
                let v = self.value();
                kv.push((k, v));
            }
            // A `,` or anything unexpected is stepped over.
            if !self.is_op("}") {
                self.pos += 1;
            }
        }
        self.pos += 1;
        Value::Dict(kv)
    }
}
