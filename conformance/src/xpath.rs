//! XPath 1.0, the part the NIST testkit's `Report` and `Assert` expressions use (its FORMAT.md
//! §6.3 and §8.2): absolute and relative location paths with the child, descendant,
//! descendant-or-self (`//`), self and attribute axes, name tests and `*`, positional and
//! boolean predicates, `or`/`and`, the six comparisons with node-set semantics, string and
//! number literals, and the functions `count`, `local-name`, `name`, `string`, `substring`,
//! `contains`, `starts-with`, `concat`, `normalize-space`, `string-length`, `not`, `true`,
//! `false`, `number`. Anything else is a parse error, never a silent false.

use crate::xmltree::{Element, Node};

/// Why an expression could not be parsed or evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("XPath {expression:?}: {message}")]
pub struct XPathError {
    pub expression: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Child,
    Descendant,
    DescendantOrSelf,
    Itself,
    Attribute,
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// `*` (any element; on the attribute axis any attribute).
    Any,
    Name(String),
    /// `node()`.
    Node,
    /// `text()`.
    Text,
}

#[derive(Debug, Clone, PartialEq)]
struct Step {
    axis: Axis,
    test: Test,
    predicates: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Compare(Op, Box<Expr>, Box<Expr>),
    Literal(String),
    Number(f64),
    Function(String, Vec<Expr>),
    Path { absolute: bool, steps: Vec<Step> },
}

// ---------------------------------------------------------------------------------------------
// Lexing and parsing

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Slash,
    DoubleSlash,
    LeftBracket,
    RightBracket,
    LeftParen,
    RightParen,
    Comma,
    At,
    Star,
    Dot,
    Op(Op),
    Axis(String),
    Name(String),
    Literal(String),
    Number(f64),
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let character = chars[index];
        let next = chars.get(index + 1).copied();
        index += 1;
        let token = match character {
            ' ' | '\t' | '\n' | '\r' => continue,
            '/' if next == Some('/') => {
                index += 1;
                Token::DoubleSlash
            }
            '/' => Token::Slash,
            '[' => Token::LeftBracket,
            ']' => Token::RightBracket,
            '(' => Token::LeftParen,
            ')' => Token::RightParen,
            ',' => Token::Comma,
            '@' => Token::At,
            '*' => Token::Star,
            '=' => Token::Op(Op::Eq),
            '!' if next == Some('=') => {
                index += 1;
                Token::Op(Op::Ne)
            }
            '<' if next == Some('=') => {
                index += 1;
                Token::Op(Op::Le)
            }
            '<' => Token::Op(Op::Lt),
            '>' if next == Some('=') => {
                index += 1;
                Token::Op(Op::Ge)
            }
            '>' => Token::Op(Op::Gt),
            '\'' | '"' => {
                let start = index;
                while index < chars.len() && chars[index] != character {
                    index += 1;
                }
                if index == chars.len() {
                    return Err("unterminated string literal".to_owned());
                }
                index += 1;
                Token::Literal(chars[start..index - 1].iter().collect())
            }
            '.' if !next.is_some_and(|next| next.is_ascii_digit()) => Token::Dot,
            digit if digit.is_ascii_digit() || digit == '.' => {
                let start = index - 1;
                while index < chars.len() && (chars[index].is_ascii_digit() || chars[index] == '.')
                {
                    index += 1;
                }
                let number: String = chars[start..index].iter().collect();
                Token::Number(
                    number
                        .parse()
                        .map_err(|_| format!("bad number {number:?}"))?,
                )
            }
            letter if letter.is_alphabetic() || letter == '_' => {
                let start = index - 1;
                while index < chars.len()
                    && (chars[index].is_alphanumeric() || matches!(chars[index], '_' | '-' | '.'))
                {
                    index += 1;
                }
                let name: String = chars[start..index].iter().collect();
                if chars.get(index) == Some(&':') && chars.get(index + 1) == Some(&':') {
                    index += 2;
                    Token::Axis(name)
                } else {
                    Token::Name(name)
                }
            }
            other => return Err(format!("unexpected character {other:?}")),
        };
        tokens.push(token);
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, token: &Token) -> Result<(), String> {
        if self.eat(token) {
            Ok(())
        } else {
            Err(format!("expected {token:?}, found {:?}", self.peek()))
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Name("or".to_owned())) {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.comparison()?;
        while self.peek() == Some(&Token::Name("and".to_owned())) {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.comparison()?));
        }
        Ok(left)
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let mut left = self.primary()?;
        while let Some(Token::Op(op)) = self.peek().cloned() {
            self.at += 1;
            left = Expr::Compare(op, Box::new(left), Box::new(self.primary()?));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.peek().cloned() {
            Some(Token::Literal(text)) => {
                self.at += 1;
                Ok(Expr::Literal(text))
            }
            Some(Token::Number(number)) => {
                self.at += 1;
                Ok(Expr::Number(number))
            }
            Some(Token::LeftParen) => {
                self.at += 1;
                let inner = self.or()?;
                self.expect(&Token::RightParen)?;
                Ok(inner)
            }
            Some(Token::Name(name))
                if self.tokens.get(self.at + 1) == Some(&Token::LeftParen)
                    && !matches!(name.as_str(), "node" | "text") =>
            {
                self.at += 2;
                let mut arguments = Vec::new();
                if !self.eat(&Token::RightParen) {
                    loop {
                        arguments.push(self.or()?);
                        if self.eat(&Token::RightParen) {
                            break;
                        }
                        self.expect(&Token::Comma)?;
                    }
                }
                Ok(Expr::Function(name, arguments))
            }
            _ => self.path(),
        }
    }

    fn path(&mut self) -> Result<Expr, String> {
        let mut steps = Vec::new();
        let absolute = match self.peek() {
            Some(Token::Slash) => {
                self.at += 1;
                true
            }
            Some(Token::DoubleSlash) => {
                self.at += 1;
                steps.push(descendant_or_self());
                true
            }
            _ => false,
        };
        // `/` alone is the root.
        if absolute && steps.is_empty() && !self.starts_step() {
            return Ok(Expr::Path { absolute, steps });
        }
        loop {
            steps.push(self.step()?);
            match self.peek() {
                Some(Token::Slash) => self.at += 1,
                Some(Token::DoubleSlash) => {
                    self.at += 1;
                    steps.push(descendant_or_self());
                }
                _ => break,
            }
        }
        Ok(Expr::Path { absolute, steps })
    }

    fn starts_step(&self) -> bool {
        matches!(
            self.peek(),
            Some(Token::At | Token::Star | Token::Dot | Token::Name(_) | Token::Axis(_))
        )
    }

    fn step(&mut self) -> Result<Step, String> {
        if self.eat(&Token::Dot) {
            return Ok(Step {
                axis: Axis::Itself,
                test: Test::Node,
                predicates: Vec::new(),
            });
        }
        let axis = match self.peek().cloned() {
            Some(Token::At) => {
                self.at += 1;
                Axis::Attribute
            }
            Some(Token::Axis(name)) => {
                self.at += 1;
                match name.as_str() {
                    "child" => Axis::Child,
                    "descendant" => Axis::Descendant,
                    "descendant-or-self" => Axis::DescendantOrSelf,
                    "self" => Axis::Itself,
                    "attribute" => Axis::Attribute,
                    other => return Err(format!("axis {other}:: is not supported")),
                }
            }
            _ => Axis::Child,
        };
        let test = match self.peek().cloned() {
            Some(Token::Star) => {
                self.at += 1;
                Test::Any
            }
            Some(Token::Name(name)) => {
                self.at += 1;
                if matches!(name.as_str(), "node" | "text") && self.eat(&Token::LeftParen) {
                    self.expect(&Token::RightParen)?;
                    if name == "node" {
                        Test::Node
                    } else {
                        Test::Text
                    }
                } else {
                    Test::Name(name)
                }
            }
            other => return Err(format!("expected a node test, found {other:?}")),
        };
        let mut predicates = Vec::new();
        while self.eat(&Token::LeftBracket) {
            predicates.push(self.or()?);
            self.expect(&Token::RightBracket)?;
        }
        Ok(Step {
            axis,
            test,
            predicates,
        })
    }
}

fn descendant_or_self() -> Step {
    Step {
        axis: Axis::DescendantOrSelf,
        test: Test::Node,
        predicates: Vec::new(),
    }
}

/// A parsed expression.
#[derive(Debug, Clone)]
pub struct XPath {
    source: String,
    expr: Expr,
}

impl XPath {
    pub fn parse(source: &str) -> Result<Self, XPathError> {
        let error = |message: String| XPathError {
            expression: source.to_owned(),
            message,
        };
        let tokens = lex(source).map_err(error)?;
        let mut parser = Parser { tokens, at: 0 };
        let expr = parser.or().map_err(error)?;
        if parser.at != parser.tokens.len() {
            return Err(error(format!(
                "unexpected {:?} after the expression",
                parser.peek()
            )));
        }
        Ok(Self {
            source: source.to_owned(),
            expr,
        })
    }

    /// The expression as a boolean (an `Assert`).
    pub fn is_true(&self, document: &Element) -> Result<bool, XPathError> {
        let tree = Tree::new(document);
        let value = tree.evaluate(&self.expr, Context::root())?;
        Ok(tree.boolean(&value))
    }

    /// The expression's string value (a `Report`: the first node in document order).
    pub fn string(&self, document: &Element) -> Result<String, XPathError> {
        let tree = Tree::new(document);
        let value = tree.evaluate(&self.expr, Context::root())?;
        Ok(tree.string(&value))
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation over a flattened tree (elements in document order)

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum NodeId {
    Root,
    Element(usize),
    /// Attribute `index` of element `owner`.
    Attribute(usize, usize),
    /// Child `index` (a text node) of element `owner`.
    Text(usize, usize),
}

struct Entry<'a> {
    element: &'a Element,
    children: Vec<usize>,
    /// One past the last descendant (elements are numbered in document order).
    end: usize,
}

struct Tree<'a> {
    entries: Vec<Entry<'a>>,
}

#[derive(Debug, Clone)]
enum Value {
    Nodes(Vec<NodeId>),
    String(String),
    Number(f64),
    Boolean(bool),
}

#[derive(Debug, Clone, Copy)]
struct Context {
    node: NodeId,
    position: usize,
    size: usize,
}

impl Context {
    fn root() -> Self {
        Self {
            node: NodeId::Root,
            position: 1,
            size: 1,
        }
    }
}

impl<'a> Tree<'a> {
    fn new(document: &'a Element) -> Self {
        let mut tree = Tree {
            entries: Vec::new(),
        };
        tree.add(document);
        tree
    }

    fn add(&mut self, element: &'a Element) -> usize {
        let index = self.entries.len();
        self.entries.push(Entry {
            element,
            children: Vec::new(),
            end: 0,
        });
        let mut children = Vec::new();
        for child in element.elements() {
            children.push(self.add(child));
        }
        self.entries[index].children = children;
        self.entries[index].end = self.entries.len();
        index
    }

    fn error(&self, message: impl Into<String>) -> XPathError {
        XPathError {
            expression: String::new(),
            message: message.into(),
        }
    }

    fn evaluate(&self, expr: &Expr, context: Context) -> Result<Value, XPathError> {
        Ok(match expr {
            Expr::Literal(text) => Value::String(text.clone()),
            Expr::Number(number) => Value::Number(*number),
            Expr::Or(left, right) => Value::Boolean(
                self.boolean(&self.evaluate(left, context)?)
                    || self.boolean(&self.evaluate(right, context)?),
            ),
            Expr::And(left, right) => Value::Boolean(
                self.boolean(&self.evaluate(left, context)?)
                    && self.boolean(&self.evaluate(right, context)?),
            ),
            Expr::Compare(op, left, right) => {
                let left = self.evaluate(left, context)?;
                let right = self.evaluate(right, context)?;
                Value::Boolean(self.compare(*op, &left, &right))
            }
            Expr::Function(name, arguments) => self.function(name, arguments, context)?,
            Expr::Path { absolute, steps } => {
                let start = if *absolute {
                    NodeId::Root
                } else {
                    context.node
                };
                let mut nodes = vec![start];
                for step in steps {
                    nodes = self.step(&nodes, step)?;
                }
                Value::Nodes(nodes)
            }
        })
    }

    fn step(&self, from: &[NodeId], step: &Step) -> Result<Vec<NodeId>, XPathError> {
        let mut out = Vec::new();
        for &node in from {
            let candidates: Vec<NodeId> = self
                .axis(node, step.axis)
                .into_iter()
                .filter(|&candidate| self.matches(candidate, step.axis, &step.test))
                .collect();
            let mut selected = candidates;
            for predicate in &step.predicates {
                let size = selected.len();
                let mut kept = Vec::new();
                for (index, &candidate) in selected.iter().enumerate() {
                    let context = Context {
                        node: candidate,
                        position: index + 1,
                        size,
                    };
                    let keep = match self.evaluate(predicate, context)? {
                        Value::Number(number) => number == (index + 1) as f64,
                        other => self.boolean(&other),
                    };
                    if keep {
                        kept.push(candidate);
                    }
                }
                selected = kept;
            }
            out.extend(selected);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    fn axis(&self, node: NodeId, axis: Axis) -> Vec<NodeId> {
        let element_children = |node: NodeId| -> Vec<NodeId> {
            match node {
                NodeId::Root => vec![NodeId::Element(0)],
                NodeId::Element(index) => {
                    let entry = &self.entries[index];
                    let mut out = Vec::new();
                    let mut next_element = entry.children.iter();
                    for (position, child) in entry.element.children.iter().enumerate() {
                        match child {
                            Node::Element(_) => {
                                if let Some(&child) = next_element.next() {
                                    out.push(NodeId::Element(child));
                                }
                            }
                            Node::Text(_) => out.push(NodeId::Text(index, position)),
                        }
                    }
                    out
                }
                _ => Vec::new(),
            }
        };
        match axis {
            Axis::Child => element_children(node),
            Axis::Itself => vec![node],
            Axis::Attribute => match node {
                NodeId::Element(index) => (0..self.entries[index].element.attributes.len())
                    .map(|attribute| NodeId::Attribute(index, attribute))
                    .collect(),
                _ => Vec::new(),
            },
            Axis::Descendant | Axis::DescendantOrSelf => {
                let (first, end) = match node {
                    NodeId::Root => (0, self.entries.len()),
                    NodeId::Element(index) => (index + 1, self.entries[index].end),
                    _ => (0, 0),
                };
                let mut out = Vec::new();
                if axis == Axis::DescendantOrSelf {
                    out.push(node);
                }
                for index in first..end {
                    out.push(NodeId::Element(index));
                    for (position, child) in self.entries[index].element.children.iter().enumerate()
                    {
                        if matches!(child, Node::Text(_)) {
                            out.push(NodeId::Text(index, position));
                        }
                    }
                }
                out
            }
        }
    }

    fn matches(&self, node: NodeId, axis: Axis, test: &Test) -> bool {
        match (test, node) {
            (Test::Node, _) => true,
            (Test::Text, NodeId::Text(..)) => true,
            (Test::Any, NodeId::Element(_)) => axis != Axis::Attribute,
            (Test::Any, NodeId::Attribute(..)) => axis == Axis::Attribute,
            (Test::Name(name), NodeId::Element(index)) => {
                self.entries[index].element.local == *name
            }
            (Test::Name(name), NodeId::Attribute(owner, index)) => {
                self.entries[owner].element.attributes[index].0 == *name
            }
            _ => false,
        }
    }

    fn node_string(&self, node: NodeId) -> String {
        match node {
            NodeId::Root => self.node_string(NodeId::Element(0)),
            NodeId::Element(index) => {
                let mut out = String::new();
                collect_text(self.entries[index].element, &mut out);
                out
            }
            NodeId::Attribute(owner, index) => {
                self.entries[owner].element.attributes[index].1.clone()
            }
            NodeId::Text(owner, index) => match &self.entries[owner].element.children[index] {
                Node::Text(text) => text.clone(),
                Node::Element(_) => String::new(),
            },
        }
    }

    fn string(&self, value: &Value) -> String {
        match value {
            Value::Nodes(nodes) => nodes
                .first()
                .map(|&node| self.node_string(node))
                .unwrap_or_default(),
            Value::String(text) => text.clone(),
            Value::Number(number) => format_number(*number),
            Value::Boolean(flag) => flag.to_string(),
        }
    }

    fn number(&self, value: &Value) -> f64 {
        match value {
            Value::Number(number) => *number,
            Value::Boolean(flag) => f64::from(u8::from(*flag)),
            other => self.string(other).trim().parse().unwrap_or(f64::NAN),
        }
    }

    fn boolean(&self, value: &Value) -> bool {
        match value {
            Value::Nodes(nodes) => !nodes.is_empty(),
            Value::String(text) => !text.is_empty(),
            Value::Number(number) => *number != 0.0 && !number.is_nan(),
            Value::Boolean(flag) => *flag,
        }
    }

    /// XPath 1.0 §3.4: node-sets compare through their members' string values.
    fn compare(&self, op: Op, left: &Value, right: &Value) -> bool {
        match (left, right) {
            (Value::Nodes(left), Value::Nodes(right)) => left.iter().any(|&a| {
                let a = self.node_string(a);
                right.iter().any(|&b| {
                    compare_atoms(
                        op,
                        &Value::String(a.clone()),
                        &Value::String(self.node_string(b)),
                        self,
                    )
                })
            }),
            (Value::Nodes(nodes), other) => nodes
                .iter()
                .any(|&node| compare_atoms(op, &self.atom_like(node, other), other, self)),
            (other, Value::Nodes(nodes)) => nodes
                .iter()
                .any(|&node| compare_atoms(op, other, &self.atom_like(node, other), self)),
            (left, right) => compare_atoms(op, left, right, self),
        }
    }

    /// A node's value converted to the type of `other` (number, boolean or string).
    fn atom_like(&self, node: NodeId, other: &Value) -> Value {
        let text = self.node_string(node);
        match other {
            Value::Number(_) => Value::Number(text.trim().parse().unwrap_or(f64::NAN)),
            Value::Boolean(_) => Value::Boolean(true),
            _ => Value::String(text),
        }
    }

    fn function(
        &self,
        name: &str,
        arguments: &[Expr],
        context: Context,
    ) -> Result<Value, XPathError> {
        let values = arguments
            .iter()
            .map(|argument| self.evaluate(argument, context))
            .collect::<Result<Vec<_>, _>>()?;
        let arity = |expected: std::ops::RangeInclusive<usize>| {
            if expected.contains(&values.len()) {
                Ok(())
            } else {
                Err(self.error(format!("{name}() takes {expected:?} arguments")))
            }
        };
        let string_argument = |index: usize| match values.get(index) {
            Some(value) => self.string(value),
            None => self.node_string(context.node),
        };
        Ok(match name {
            "count" => {
                arity(1..=1)?;
                match &values[0] {
                    Value::Nodes(nodes) => Value::Number(nodes.len() as f64),
                    _ => return Err(self.error("count() needs a node-set")),
                }
            }
            "local-name" | "name" => {
                arity(0..=1)?;
                let node = match values.first() {
                    Some(Value::Nodes(nodes)) => nodes.first().copied(),
                    Some(_) => return Err(self.error(format!("{name}() needs a node-set"))),
                    None => Some(context.node),
                };
                Value::String(match node {
                    Some(NodeId::Element(index)) => self.entries[index].element.local.clone(),
                    Some(NodeId::Attribute(owner, index)) => {
                        let qualified = &self.entries[owner].element.attributes[index].0;
                        if name == "name" {
                            qualified.clone()
                        } else {
                            qualified.rsplit(':').next().unwrap_or_default().to_owned()
                        }
                    }
                    _ => String::new(),
                })
            }
            "string" => {
                arity(0..=1)?;
                Value::String(string_argument(0))
            }
            "normalize-space" => {
                arity(0..=1)?;
                Value::String(
                    string_argument(0)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
            "string-length" => {
                arity(0..=1)?;
                Value::Number(string_argument(0).chars().count() as f64)
            }
            "concat" => Value::String(values.iter().map(|value| self.string(value)).collect()),
            "contains" => {
                arity(2..=2)?;
                Value::Boolean(string_argument(0).contains(&string_argument(1)))
            }
            "starts-with" => {
                arity(2..=2)?;
                Value::Boolean(string_argument(0).starts_with(&string_argument(1)))
            }
            "substring" => {
                arity(2..=3)?;
                let text: Vec<char> = string_argument(0).chars().collect();
                let start = self.number(&values[1]).round();
                let end = match values.get(2) {
                    Some(length) => start + self.number(length).round(),
                    None => f64::INFINITY,
                };
                Value::String(
                    text.iter()
                        .enumerate()
                        .filter(|(index, _)| {
                            let position = (*index + 1) as f64;
                            position >= start && position < end
                        })
                        .map(|(_, character)| character)
                        .collect(),
                )
            }
            "not" => {
                arity(1..=1)?;
                Value::Boolean(!self.boolean(&values[0]))
            }
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            "number" => {
                arity(0..=1)?;
                match values.first() {
                    Some(value) => Value::Number(self.number(value)),
                    None => Value::Number(
                        self.node_string(context.node)
                            .trim()
                            .parse()
                            .unwrap_or(f64::NAN),
                    ),
                }
            }
            "position" => Value::Number(context.position as f64),
            "last" => Value::Number(context.size as f64),
            other => return Err(self.error(format!("function {other}() is not supported"))),
        })
    }
}

fn compare_atoms(op: Op, left: &Value, right: &Value, tree: &Tree<'_>) -> bool {
    match op {
        Op::Eq | Op::Ne => {
            let equal = match (left, right) {
                (Value::Boolean(_), _) | (_, Value::Boolean(_)) => {
                    tree.boolean(left) == tree.boolean(right)
                }
                (Value::Number(_), _) | (_, Value::Number(_)) => {
                    tree.number(left) == tree.number(right)
                }
                _ => tree.string(left) == tree.string(right),
            };
            equal == (op == Op::Eq)
        }
        _ => {
            let (a, b) = (tree.number(left), tree.number(right));
            match op {
                Op::Lt => a < b,
                Op::Le => a <= b,
                Op::Gt => a > b,
                _ => a >= b,
            }
        }
    }
}

fn collect_text(element: &Element, out: &mut String) {
    for child in &element.children {
        match child {
            Node::Text(text) => out.push_str(text),
            Node::Element(element) => collect_text(element, out),
        }
    }
}

fn format_number(number: f64) -> String {
    if number.fract() == 0.0 && number.is_finite() {
        format!("{number:.0}")
    } else {
        number.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Element {
        crate::xmltree::parse(
            r#"<TestResults>
                 <TestStep id="a"><StoredQueryTransaction><Result>
                   <q:AdhocQueryResponse xmlns:q="urn:q" xmlns:r="urn:r" status="ok">
                     <r:RegistryObjectList>
                       <r:ExtrinsicObject id="e1" lid="e1" status="Approved">
                         <r:Slot name="creationTime"><r:ValueList><r:Value>20240101</r:Value></r:ValueList></r:Slot>
                       </r:ExtrinsicObject>
                       <r:ExtrinsicObject id="e2" lid="e1" status="Deprecated"/>
                       <r:Association id="a1" sourceObject="s"><r:Slot name="PreviousVersion"><r:ValueList><r:Value>1</r:Value></r:ValueList></r:Slot></r:Association>
                       <r:Association id="a2" sourceObject="s"/>
                     </r:RegistryObjectList>
                   </q:AdhocQueryResponse>
                 </Result></StoredQueryTransaction></TestStep>
               </TestResults>"#,
        )
        .unwrap()
    }

    fn check(expression: &str) -> bool {
        XPath::parse(expression)
            .unwrap()
            .is_true(&document())
            .unwrap()
    }

    fn report(expression: &str) -> String {
        XPath::parse(expression)
            .unwrap()
            .string(&document())
            .unwrap()
    }

    #[test]
    fn testkit_report_expressions() {
        assert_eq!(report("//*[local-name()='ExtrinsicObject'][1]/@id"), "e1");
        assert_eq!(report("//*[local-name()='ExtrinsicObject'][2]/@id"), "e2");
        assert_eq!(
            report(
                "//*[local-name()='ExtrinsicObject']/*[local-name()='Slot'][@name='creationTime']/*[local-name()='ValueList']/*[local-name()='Value']"
            ),
            "20240101"
        );
        assert_eq!(
            report(
                "//*[local-name()='Association'][not(descendant::*[local-name()='Slot'][@name='PreviousVersion']/*[local-name()='ValueList']/*[local-name()='Value'] = '1')][1]/@id"
            ),
            "a2"
        );
        assert_eq!(report("//*[local-name()='Nothing']/@id"), "");
    }

    #[test]
    fn testkit_assert_expressions() {
        assert!(check(
            "count(//*[local-name()='ExtrinsicObject'][@lid=\"e1\"]) = 2"
        ));
        assert!(!check(
            "count(//*[local-name()='ExtrinsicObject'][@lid=\"e1\"]) = 1"
        ));
        assert!(check(
            "count(//*[local-name()='Association'][@sourceObject=\"s\" and @id = 'a2']) = '1'"
        ));
        assert!(check(
            "//*[local-name()='ExtrinsicObject']/@status = 'Deprecated'"
        ));
        assert!(check(
            "//*[local-name()='ExtrinsicObject'][1]/@id != //*[local-name()='ExtrinsicObject'][2]/@id"
        ));
        assert!(check(
            "substring(//TestStep[@id=\"a\"]/StoredQueryTransaction/Result/*[local-name()='AdhocQueryResponse']/@status,1,1) = \"o\""
        ));
        assert!(check("'20240101' < '20240102'"));
        assert!(!check(
            "'e1' != //*[local-name()='ExtrinsicObject'][@id='e2']/@lid"
        ));
        assert!(check(
            "count(//TestStep[@id='a']//*[local-name()='Association']/*[local-name()='Slot']) = 1"
        ));
    }

    #[test]
    fn unsupported_syntax_is_an_error() {
        assert!(XPath::parse("//a/..").is_err());
        assert!(XPath::parse("count(//a").is_err());
        assert!(XPath::parse("'open").is_err());
        let unknown = XPath::parse("translate('a','a','b')").unwrap();
        assert!(unknown.is_true(&document()).is_err());
    }
}
