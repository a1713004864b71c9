//! The PyTorch lines, read back: a small parser of the Python they use (calls with positional
//! and keyword arguments, tuples, ints, floats, strings, attributes, subscripts and slices,
//! comments, arithmetic `+ - * / **` and `>`), and an interpreter of the few PyTorch functions in them with PyTorch's
//! semantics (one padding per axis for `F.conv2d` / `F.conv_transpose2d`, `F.pad`'s
//! last-dimension-first order, a crop by slices, nearest upsampling). For a table of settings
//! the lines must name exactly the settings' numbers, imply (by PyTorch's documented
//! output-size formulas) the trace's output size, and compute the trace's output.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use std::collections::HashMap;

use super::*;
use crate::conv;
use crate::nn::trainer::{Init, Schedule};
use crate::nn::Preset;
use crate::trace::{correlate as corr_trace, flip_kernel, transpose as trans_trace, Rng};
use crate::Tensor;

// ---------------------------------------------------------------- the parser

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Int(i64),
    Float(f64),
    Str(String),
    Punct(&'static str),
    Newline,
}

fn tokenize(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let (mut i, mut depth, mut out) = (0, 0i32, Vec::new());
    while i < c.len() {
        let ch = c[i];
        if ch == '#' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '\n' {
            if depth == 0 && out.last().is_some_and(|t| *t != Tok::Newline) {
                out.push(Tok::Newline);
            }
            i += 1;
        } else if ch == ' ' {
            i += 1;
        } else if ch.is_ascii_alphabetic() || ch == '_' {
            let s = i;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(c[s..i].iter().collect()));
        } else if ch.is_ascii_digit() {
            let s = i;
            while i < c.len()
                && (c[i].is_ascii_digit() || c[i] == '.' && c.get(i + 1) != Some(&'.'))
            {
                i += 1;
            }
            if i < c.len() && c[i] == 'e' {
                i += 1;
                if c[i] == '-' || c[i] == '+' {
                    i += 1;
                }
                while i < c.len() && c[i].is_ascii_digit() {
                    i += 1;
                }
            }
            let t: String = c[s..i].iter().collect();
            out.push(if t.contains(['.', 'e']) {
                Tok::Float(t.parse().unwrap())
            } else {
                Tok::Int(t.parse().unwrap())
            });
        } else if ch == '\'' {
            let s = i + 1;
            i = s;
            while c[i] != '\'' {
                i += 1;
            }
            out.push(Tok::Str(c[s..i].iter().collect()));
            i += 1;
        } else if c[i..].starts_with(&['.', '.', '.']) {
            out.push(Tok::Punct("..."));
            i += 3;
        } else {
            let p = match ch {
                '(' => "(",
                ')' => ")",
                '[' => "[",
                ']' => "]",
                ',' => ",",
                '=' => "=",
                ':' => ":",
                '.' => ".",
                '-' => "-",
                '+' => "+",
                '*' if c.get(i + 1) == Some(&'*') => {
                    i += 1;
                    "**"
                }
                '*' => "*",
                '/' => "/",
                '>' => ">",
                _ => panic!("unexpected {ch:?} outside a comment in {src}"),
            };
            match p {
                "(" | "[" => depth += 1,
                ")" | "]" => depth -= 1,
                _ => {}
            }
            out.push(Tok::Punct(p));
            i += 1;
        }
    }
    assert_eq!(depth, 0, "unbalanced brackets in {src}");
    out.push(Tok::Newline);
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Int(i64),
    Float(f64),
    Str(String),
    Name(String),
    Ellipsis,
    Tuple(Vec<Expr>),
    Slice(Option<Box<Expr>>, Option<Box<Expr>>),
    Attr(Box<Expr>, String),
    Call(Box<Expr>, Vec<Expr>, Vec<(String, Expr)>),
    Index(Box<Expr>, Vec<Expr>),
    /// `a op b`: `+ - * / **` element-wise (a one-element side broadcast), `>` as 1 or 0.
    Bin(&'static str, Box<Expr>, Box<Expr>),
}

impl Expr {
    /// `torch.nn.functional`'s `F.conv2d` as `"F.conv2d"`; `None` for a non-name.
    fn path(&self) -> Option<String> {
        match self {
            Expr::Name(n) => Some(n.clone()),
            Expr::Attr(e, a) => Some(format!("{}.{a}", e.path()?)),
            _ => None,
        }
    }
    fn int(&self) -> i64 {
        match self {
            Expr::Int(v) => *v,
            e => panic!("not an int: {e:?}"),
        }
    }
    /// An int or a tuple of ints.
    fn ints(&self) -> Vec<i64> {
        match self {
            Expr::Tuple(v) => v.iter().map(Expr::int).collect(),
            e => vec![e.int()],
        }
    }
    /// A PyTorch pair argument (`2` or `(2, 1)`) as `[h, w]`.
    fn pair(&self) -> [usize; 2] {
        match self.ints()[..] {
            [a] => [a as usize; 2],
            [a, b] => [a as usize, b as usize],
            _ => panic!("not a pair: {self:?}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Stmt {
    Assign(String, Expr),
    Expr(Expr),
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.t[self.i]
    }
    fn next(&mut self) -> Tok {
        self.i += 1;
        self.t[self.i - 1].clone()
    }
    fn eat(&mut self, p: &str) -> bool {
        if *self.peek() == Tok::Punct(leak(p)) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, p: &str) {
        assert!(self.eat(p), "expected {p:?}, got {:?}", self.peek());
    }

    fn program(&mut self) -> Vec<Stmt> {
        let mut out = Vec::new();
        while self.i < self.t.len() {
            if *self.peek() == Tok::Newline {
                self.i += 1;
                continue;
            }
            let assign = matches!(self.peek(), Tok::Name(_))
                && self.t.get(self.i + 1) == Some(&Tok::Punct("="));
            let s = if assign {
                let Tok::Name(n) = self.next() else {
                    unreachable!()
                };
                self.expect("=");
                Stmt::Assign(n, self.expr())
            } else {
                Stmt::Expr(self.expr())
            };
            assert_eq!(self.next(), Tok::Newline, "one statement a line");
            out.push(s);
        }
        out
    }

    /// An expression: a comparison of sums of products of powers of postfix expressions.
    fn expr(&mut self) -> Expr {
        let a = self.sum();
        if self.eat(">") {
            return Expr::Bin(">", Box::new(a), Box::new(self.sum()));
        }
        a
    }
    fn sum(&mut self) -> Expr {
        let mut a = self.product();
        loop {
            let op = if self.eat("+") {
                "+"
            } else if self.eat("-") {
                "-"
            } else {
                return a;
            };
            a = Expr::Bin(op, Box::new(a), Box::new(self.product()));
        }
    }
    fn product(&mut self) -> Expr {
        let mut a = self.unary();
        loop {
            let op = if self.eat("*") {
                "*"
            } else if self.eat("/") {
                "/"
            } else {
                return a;
            };
            a = Expr::Bin(op, Box::new(a), Box::new(self.unary()));
        }
    }
    fn unary(&mut self) -> Expr {
        if self.eat("-") {
            return match self.unary() {
                Expr::Int(v) => Expr::Int(-v),
                Expr::Float(v) => Expr::Float(-v),
                e => panic!("minus before {e:?}"),
            };
        }
        let a = self.postfix();
        if self.eat("**") {
            return Expr::Bin("**", Box::new(a), Box::new(self.unary()));
        }
        a
    }
    fn postfix(&mut self) -> Expr {
        let mut e = match self.next() {
            Tok::Int(v) => Expr::Int(v),
            Tok::Float(v) => Expr::Float(v),
            Tok::Str(s) => Expr::Str(s),
            Tok::Name(n) => Expr::Name(n),
            Tok::Punct("...") => Expr::Ellipsis,
            Tok::Punct("(") => {
                let mut items = Vec::new();
                let mut comma = false;
                while !self.eat(")") {
                    items.push(self.expr());
                    if !self.eat(",") {
                        self.expect(")");
                        break;
                    }
                    comma = true;
                }
                if items.len() == 1 && !comma {
                    items.pop().unwrap()
                } else {
                    Expr::Tuple(items)
                }
            }
            t => panic!("unexpected {t:?}"),
        };
        loop {
            if self.eat(".") {
                let Tok::Name(a) = self.next() else {
                    panic!("attribute name")
                };
                e = Expr::Attr(Box::new(e), a);
            } else if self.eat("(") {
                let (mut args, mut kwargs) = (Vec::new(), Vec::new());
                while !self.eat(")") {
                    let kw = matches!(self.peek(), Tok::Name(_))
                        && self.t.get(self.i + 1) == Some(&Tok::Punct("="));
                    if kw {
                        let Tok::Name(n) = self.next() else {
                            unreachable!()
                        };
                        self.expect("=");
                        assert!(kwargs.iter().all(|(k, _)| *k != n), "{n} given twice");
                        kwargs.push((n, self.expr()));
                    } else {
                        assert!(kwargs.is_empty(), "positional after keyword");
                        args.push(self.expr());
                    }
                    if !self.eat(",") {
                        self.expect(")");
                        break;
                    }
                }
                e = Expr::Call(Box::new(e), args, kwargs);
            } else if self.eat("[") {
                let mut items = Vec::new();
                loop {
                    let lo = (!matches!(self.peek(), Tok::Punct(":"))).then(|| self.expr());
                    let item = if self.eat(":") {
                        let hi = (!matches!(self.peek(), Tok::Punct("," | "]")))
                            .then(|| Box::new(self.expr()));
                        Expr::Slice(lo.map(Box::new), hi)
                    } else {
                        lo.expect("an index")
                    };
                    items.push(item);
                    if !self.eat(",") {
                        self.expect("]");
                        break;
                    }
                }
                e = Expr::Index(Box::new(e), items);
            } else {
                return e;
            }
        }
    }
}

fn leak(p: &str) -> &'static str {
    [
        "(", ")", "[", "]", ",", "=", ":", ".", "-", "...", "+", "*", "**", "/", ">",
    ]
    .into_iter()
    .find(|q| *q == p)
    .expect("a known punctuation")
}

fn parse(code: &Code) -> Vec<Stmt> {
    assert_eq!(code.text, code.lines.join("\n"));
    Parser {
        t: tokenize(&code.text),
        i: 0,
    }
    .program()
}

#[test]
fn the_parser_reads_python_calls() {
    let p = parse(&Code::new(vec![
        "y = F.conv2d(x, w, stride=(1, 2), padding=3)  # a comment: (×, −)".into(),
        "y = y[..., 1:7, 0:5]".into(),
        "m = nn.Sequential(".into(),
        "    nn.Linear(784, 10),  # fc1".into(),
        "    nn.Softmax(dim=1),".into(),
        ")".into(),
        "f(float('-inf'), dims=(-2, -1), lr=0.002)".into(),
    ]));
    assert_eq!(p.len(), 4);
    let Stmt::Assign(y, Expr::Call(f, args, kw)) = &p[0] else {
        panic!("{:?}", p[0])
    };
    assert_eq!((y.as_str(), f.path().unwrap().as_str()), ("y", "F.conv2d"));
    assert_eq!(args, &[Expr::Name("x".into()), Expr::Name("w".into())]);
    assert_eq!(kw[0].1.pair(), [1, 2]);
    assert_eq!(kw[1].1.pair(), [3, 3]);
    let Stmt::Assign(_, Expr::Index(_, items)) = &p[1] else {
        panic!()
    };
    assert_eq!(items[0], Expr::Ellipsis);
    assert_eq!(
        items[1],
        Expr::Slice(Some(Box::new(Expr::Int(1))), Some(Box::new(Expr::Int(7))))
    );
    let Stmt::Assign(_, Expr::Call(_, layers, _)) = &p[2] else {
        panic!()
    };
    assert_eq!(layers.len(), 2);
    let Stmt::Expr(Expr::Call(_, args, kw)) = &p[3] else {
        panic!()
    };
    assert_eq!(args[0], call("float", vec![Expr::Str("-inf".into())]));
    assert_eq!(kw[0].1.ints(), vec![-2, -1]);
    assert_eq!(kw[1].1, Expr::Float(0.002));
}

fn call(f: &str, args: Vec<Expr>) -> Expr {
    Expr::Call(Box::new(Expr::Name(f.into())), args, vec![])
}

// ---------------------------------------------------------------- the interpreter

/// What one run of the lines called, with the keyword arguments as written.
#[derive(Default)]
struct Run {
    env: HashMap<String, Tensor>,
    calls: Vec<(String, Vec<Expr>, HashMap<String, Expr>)>,
}

fn kwargs_of(kw: &[(String, Expr)], allowed: &[&str]) -> HashMap<String, Expr> {
    for (k, _) in kw {
        assert!(allowed.contains(&k.as_str()), "unexpected keyword {k}");
    }
    kw.iter().cloned().collect()
}

/// PyTorch's output size of a conv along one axis (torch.nn.Conv2d's documentation).
fn conv_out(n: usize, k: usize, s: usize, p: usize, d: usize) -> usize {
    (n + 2 * p - d * (k - 1) - 1) / s + 1
}

/// PyTorch's output size of a transposed conv along one axis (torch.nn.ConvTranspose2d's).
fn transpose_out(n: usize, k: usize, s: usize, p: usize, d: usize, op: usize) -> usize {
    (n - 1) * s + d * (k - 1) + op + 1 - 2 * p
}

fn hw(t: &Tensor) -> [usize; 2] {
    let s = t.shape();
    [s[s.len() - 2], s[s.len() - 1]]
}

impl Run {
    fn eval(&mut self, e: &Expr) -> Tensor {
        match e {
            Expr::Name(n) => self
                .env
                .get(n)
                .unwrap_or_else(|| panic!("{n} undefined"))
                .clone(),
            Expr::Index(v, items) => {
                let t = self.eval(v);
                assert_eq!(items.len(), 3, "y[..., rows, cols]");
                assert_eq!(items[0], Expr::Ellipsis);
                let range = |e: &Expr, n: usize| match e {
                    Expr::Slice(a, b) => {
                        let a = a.as_ref().map_or(0, |a| a.int() as usize);
                        let b = b.as_ref().map_or(n, |b| b.int() as usize);
                        assert!(a <= b && b <= n, "{a}:{b} of {n}");
                        (a, b)
                    }
                    e => panic!("not a slice: {e:?}"),
                };
                let [h, w] = hw(&t);
                let (r0, r1) = range(&items[1], h);
                let (c0, c1) = range(&items[2], w);
                let data = (r0..r1)
                    .flat_map(|r| (c0..c1).map(move |c| (r, c)))
                    .map(|(r, c)| t.data()[r * w + c])
                    .collect();
                Tensor::new(data, &[1, 1, r1 - r0, c1 - c0]).unwrap()
            }
            Expr::Int(v) => Tensor::new(vec![*v as f32], &[1]).unwrap(),
            Expr::Float(v) => Tensor::new(vec![*v as f32], &[1]).unwrap(),
            Expr::Bin(op, a, b) => {
                let (a, b) = (self.eval(a), self.eval(b));
                let f = |x: f32, y: f32| match *op {
                    "+" => x + y,
                    "-" => x - y,
                    "*" => x * y,
                    "/" => x / y,
                    "**" => x.powf(y),
                    ">" => f32::from(u8::from(x > y)),
                    _ => unreachable!(),
                };
                zip(&a, &b, f)
            }
            // A method of a value (`w.mean()`), not a module's function (`F.conv2d`).
            Expr::Call(f, args, kw) if matches!(&**f, Expr::Attr(o, _) if !matches!(&**o, Expr::Name(n) if n == "F" || n == "torch")) =>
            {
                let Expr::Attr(obj, m) = &**f else {
                    unreachable!()
                };
                let t = self.eval(obj);
                let v = t.data();
                let one = |x: f32| Tensor::new(vec![x], &[1]).unwrap();
                let each = |g: &dyn Fn(f32) -> f32| {
                    Tensor::new(v.iter().map(|&x| g(x)).collect(), t.shape()).unwrap()
                };
                let out = match m.as_str() {
                    "numel" => one(v.len() as f32),
                    "mean" => one(v.iter().sum::<f32>() / v.len() as f32),
                    "norm" => one(v.iter().map(|x| x * x).sum::<f32>().sqrt()),
                    "sqrt" => each(&f32::sqrt),
                    "clamp" => {
                        let k = kwargs_of(kw, &["min"]);
                        let lo = match &k["min"] {
                            Expr::Int(i) => *i as f32,
                            Expr::Float(x) => *x as f32,
                            e => panic!("clamp(min={e:?})"),
                        };
                        each(&|x| x.max(lo))
                    }
                    m => panic!("unknown method .{m}()"),
                };
                if m != "clamp" {
                    kwargs_of(kw, &[]);
                }
                assert!(args.is_empty(), ".{m}() takes no positional argument here");
                self.calls
                    .push((format!(".{m}"), args.clone(), kw.iter().cloned().collect()));
                out
            }
            Expr::Call(f, args, kw) => {
                let name = f.path().expect("a function name");
                let out = self.call(&name, args, kw);
                self.calls
                    .push((name, args.clone(), kw.iter().cloned().collect()));
                out
            }
            e => panic!("cannot evaluate {e:?}"),
        }
    }

    fn call(&mut self, name: &str, args: &[Expr], kw: &[(String, Expr)]) -> Tensor {
        match name {
            "torch.flip" => {
                let k = kwargs_of(kw, &["dims"]);
                assert_eq!(k["dims"].ints(), vec![-2, -1]);
                let t = self.eval(&args[0]);
                let [h, w] = hw(&t);
                Tensor::new(flip_kernel(t.data(), h, w), t.shape()).unwrap()
            }
            "F.pad" => {
                kwargs_of(kw, &[]);
                let t = self.eval(&args[0]);
                let [l, r, top, b] = args[1].ints()[..] else {
                    panic!("F.pad takes (left, right, top, bottom)")
                };
                let [l, r, top, b] = [l, r, top, b].map(|v| v as usize);
                let [h, w] = hw(&t);
                let (ph, pw) = (h + top + b, w + l + r);
                let mut out = vec![0.0; ph * pw];
                for y in 0..h {
                    for x in 0..w {
                        out[(y + top) * pw + x + l] = t.data()[y * w + x];
                    }
                }
                Tensor::new(out, &[1, 1, ph, pw]).unwrap()
            }
            "F.conv2d" => {
                let k = kwargs_of(kw, &["stride", "padding", "dilation"]);
                let (x, w) = (self.eval(&args[0]), self.eval(&args[1]));
                let get = |n: &str, d| k.get(n).map_or([d, d], Expr::pair);
                let (s, p, d) = (get("stride", 1), get("padding", 0), get("dilation", 1));
                let g = Conv2dParams {
                    stride: s,
                    padding: [p[0], p[1], p[0], p[1]],
                    dilation: d,
                    ..Default::default()
                };
                let y = conv::conv2d(&x, &w, None, &g).unwrap();
                let ([ih, iw], [kh, kw]) = (hw(&x), hw(&w));
                assert_eq!(
                    hw(&y),
                    [
                        conv_out(ih, kh, s[0], p[0], d[0]),
                        conv_out(iw, kw, s[1], p[1], d[1])
                    ]
                );
                y
            }
            "F.conv_transpose2d" => {
                let k = kwargs_of(kw, &["stride", "padding", "output_padding", "dilation"]);
                let (x, w) = (self.eval(&args[0]), self.eval(&args[1]));
                let get = |n: &str, d| k.get(n).map_or([d, d], Expr::pair);
                let (s, p, d, op) = (
                    get("stride", 1),
                    get("padding", 0),
                    get("dilation", 1),
                    get("output_padding", 0),
                );
                let g = Conv2dParams {
                    stride: s,
                    padding: [p[0], p[1], p[0], p[1]],
                    dilation: d,
                    output_padding: op,
                    ..Default::default()
                };
                let y = conv::conv_transpose2d(&x, &w, None, &g).unwrap();
                let ([ih, iw], [kh, kw]) = (hw(&x), hw(&w));
                assert_eq!(
                    hw(&y),
                    [
                        transpose_out(ih, kh, s[0], p[0], d[0], op[0]),
                        transpose_out(iw, kw, s[1], p[1], d[1], op[1])
                    ]
                );
                y
            }
            "torch.ones_like" | "torch.zeros_like" => {
                kwargs_of(kw, &[]);
                let t = self.eval(&args[0]);
                let v = if name == "torch.ones_like" { 1.0 } else { 0.0 };
                Tensor::new(vec![v; t.data().len()], t.shape()).unwrap()
            }
            "torch.where" => {
                kwargs_of(kw, &[]);
                let (c, a, b) = (
                    self.eval(&args[0]),
                    self.eval(&args[1]),
                    self.eval(&args[2]),
                );
                // The condition's shape (each side one element or the same shape).
                let at = |t: &Tensor, i: usize| {
                    let v = t.data();
                    assert!(v.len() == 1 || v.len() == c.data().len());
                    if v.len() == 1 {
                        v[0]
                    } else {
                        v[i]
                    }
                };
                let data = (0..c.data().len())
                    .map(|i| {
                        if c.data()[i] != 0.0 {
                            at(&a, i)
                        } else {
                            at(&b, i)
                        }
                    })
                    .collect();
                Tensor::new(data, c.shape()).unwrap()
            }
            "F.interpolate" => {
                let k = kwargs_of(kw, &["scale_factor", "mode"]);
                assert_eq!(k["mode"], Expr::Str("nearest".into()));
                let [sh, sw] = k["scale_factor"].pair();
                let t = self.eval(&args[0]);
                let [h, w] = hw(&t);
                let (oh, ow) = (h * sh, w * sw);
                // PyTorch's nearest: source index ⌊dst / scale⌋.
                let data = (0..oh * ow)
                    .map(|i| t.data()[(i / ow) / sh * w + (i % ow) / sw])
                    .collect();
                Tensor::new(data, &[1, 1, oh, ow]).unwrap()
            }
            n => panic!("unknown function {n}"),
        }
    }

    /// Runs the lines with `x` and `w` bound; returns the run (its variables and calls).
    fn lines(code: &Code, env: &[(&str, Tensor)]) -> Run {
        let mut run = Run {
            env: env
                .iter()
                .map(|(n, t)| (n.to_string(), t.clone()))
                .collect(),
            calls: Vec::new(),
        };
        for s in parse(code) {
            match s {
                Stmt::Assign(n, e) => {
                    let v = run.eval(&e);
                    run.env.insert(n, v);
                }
                Stmt::Expr(e) => panic!("a bare expression: {e:?}"),
            }
        }
        run
    }

    /// The calls of function `name`, in order.
    fn of(&self, name: &str) -> Vec<&(String, Vec<Expr>, HashMap<String, Expr>)> {
        self.calls.iter().filter(|c| c.0 == name).collect()
    }
}

/// `f` element-wise over two tensors of one shape, or a tensor and a one-element one.
fn zip(a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) -> Tensor {
    let (x, y) = (a.data(), b.data());
    let (n, shape) = if x.len() >= y.len() {
        (x.len(), a.shape())
    } else {
        (y.len(), b.shape())
    };
    assert!(
        x.len() == y.len() || x.len() == 1 || y.len() == 1,
        "shapes {:?} and {:?}",
        a.shape(),
        b.shape()
    );
    let at = |v: &[f32], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    Tensor::new((0..n).map(|i| f(at(x, i), at(y, i))).collect(), shape).unwrap()
}

fn rand(n: usize, rng: &mut Rng) -> Vec<f32> {
    (0..n).map(|_| rng.eighth()).collect()
}

fn image(data: &[f32], [h, w]: [usize; 2]) -> Tensor {
    Tensor::new(data.to_vec(), &[1, 1, h, w]).unwrap()
}

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
            "{what}: cell {i}: {x} vs {y}"
        );
    }
}

/// A keyword's pair, PyTorch's default when it is not written.
fn named(kw: &HashMap<String, Expr>, name: &str, default: usize) -> [usize; 2] {
    kw.get(name).map_or([default; 2], Expr::pair)
}

// ---------------------------------------------------------------- the table

/// Settings every test runs: symmetric and asymmetric padding, stride (1, 2), dilation, and
/// random ones.
fn table(rng: &mut Rng, n: usize) -> Vec<([usize; 2], [usize; 2], Conv2dParams)> {
    let g = |s: [usize; 2], p: [usize; 4], d: [usize; 2], op: [usize; 2]| Conv2dParams {
        stride: s,
        padding: p,
        dilation: d,
        output_padding: op,
        groups: 1,
    };
    let mut t = vec![
        ([8, 8], [3, 3], g([1, 1], [0; 4], [1, 1], [0, 0])),
        ([8, 8], [3, 3], g([1, 2], [1; 4], [1, 1], [0, 0])),
        ([8, 8], [3, 3], g([2, 2], [1, 2, 1, 2], [1, 1], [1, 1])),
        ([8, 7], [3, 2], g([2, 1], [1, 0, 2, 1], [1, 2], [1, 0])),
        ([6, 6], [3, 3], g([1, 1], [0, 0, 2, 0], [2, 2], [0, 0])),
        ([5, 8], [5, 3], g([3, 2], [2, 1, 0, 3], [1, 1], [2, 1])),
        ([4, 4], [4, 4], g([2, 2], [1, 1, 2, 2], [1, 1], [0, 0])),
    ];
    while t.len() < n {
        let r =
            |rng: &mut Rng, lo: usize, hi: usize| lo + (rng.next_u32() as usize) % (hi - lo + 1);
        let size = [r(rng, 2, 10), r(rng, 2, 10)];
        let k = [r(rng, 1, 5), r(rng, 1, 5)];
        let sym = r(rng, 0, 1) == 0;
        let (ph, pw) = (r(rng, 0, 3), r(rng, 0, 3));
        let p = if sym {
            [ph, pw, ph, pw]
        } else {
            [ph, pw, r(rng, 0, 3), r(rng, 0, 3)]
        };
        let s = [r(rng, 1, 3), r(rng, 1, 3)];
        let d = [r(rng, 1, 3), r(rng, 1, 3)];
        let op = [r(rng, 0, 2), r(rng, 0, 2)];
        t.push((size, k, g(s, p, d, op)));
    }
    t
}

#[test]
fn the_conv2d_line_names_the_setting_and_computes_the_trace() {
    let mut rng = Rng::new(19);
    let mut seen = [0usize; 4]; // symmetric, asymmetric, flipped, stride (1, 2)
    for (size, k, g) in table(&mut rng, 160) {
        let g = Conv2dParams {
            output_padding: [0, 0],
            ..g
        };
        for flip in [false, true] {
            let Ok(code) = correlate(size, k, &g, flip) else {
                assert!(check(Op::Correlate, size, k, &g).is_err());
                continue;
            };
            let (x, w) = (
                rand(size[0] * size[1], &mut rng),
                rand(k[0] * k[1], &mut rng),
            );
            let t = corr_trace::trace(&x, size[0], size[1], &w, k[0], k[1], &g, flip).unwrap();
            let run = Run::lines(&code, &[("x", image(&x, size)), ("w", image(&w, k))]);
            // The numbers: the flip iff flipped, F.pad's (left, right, top, bottom) iff the
            // padding is asymmetric, and conv2d's stride, padding and dilation.
            assert_eq!(
                run.of("torch.flip").len(),
                usize::from(flip),
                "{}",
                code.text
            );
            let [pt, pl, pb, pr] = g.padding;
            let pads = run.of("F.pad");
            let convs = run.of("F.conv2d");
            assert_eq!(convs.len(), 1);
            let kw = &convs[0].2;
            if pt == pb && pl == pr {
                assert!(pads.is_empty(), "{}", code.text);
                assert_eq!(named(kw, "padding", 0), [pt, pl], "{}", code.text);
                seen[0] += 1;
            } else {
                assert_eq!(pads.len(), 1, "{}", code.text);
                assert_eq!(
                    pads[0].1[1].ints(),
                    vec![pl as i64, pr as i64, pt as i64, pb as i64]
                );
                assert!(!kw.contains_key("padding"));
                seen[1] += 1;
            }
            assert_eq!(named(kw, "stride", 1), g.stride, "{}", code.text);
            assert_eq!(named(kw, "dilation", 1), g.dilation, "{}", code.text);
            seen[2] += usize::from(flip);
            seen[3] += usize::from(g.stride == [1, 2]);
            // The size its formula implies (checked inside F.conv2d) and the values.
            let y = &run.env["y"];
            assert_eq!(hw(y), [t.out_h, t.out_w], "{}", code.text);
            close(y.data(), &t.output, &code.text);
        }
    }
    assert!(seen.iter().all(|&n| n > 4), "{seen:?}");
    // The scene's example, word for word.
    let g = Conv2dParams {
        stride: [2, 1],
        padding: [1, 0, 2, 1],
        dilation: [1, 2],
        ..Default::default()
    };
    assert_eq!(
        correlate([8, 8], [3, 3], &g, true).unwrap().lines,
        vec![
            "w = torch.flip(w, dims=(-2, -1))  # turned 180°: a true convolution",
            "y = F.pad(x, (0, 1, 1, 2))",
            "y = F.conv2d(y, w, stride=(2, 1), dilation=(1, 2))",
        ]
    );
    assert_eq!(
        correlate(
            [8, 8],
            [3, 3],
            &Conv2dParams::default().pad(1).stride(2),
            false
        )
        .unwrap()
        .text,
        "y = F.conv2d(x, w, stride=2, padding=1)"
    );
}

#[test]
fn the_normalised_lines_compute_the_ncc_trace() {
    let mut rng = Rng::new(29);
    let mut ran = [0usize; 3]; // settings, asymmetric padding, flat outputs (0)
    for (size, k, g) in table(&mut rng, 160) {
        let g = Conv2dParams {
            output_padding: [0, 0],
            ..g
        };
        for flip in [false, true] {
            let mode = corr_trace::Mode {
                flip,
                normalized: true,
            };
            let Ok(code) = correlate_with(size, k, &g, mode) else {
                assert!(check(Op::Correlate, size, k, &g).is_err());
                continue;
            };
            let x = rand(size[0] * size[1], &mut rng);
            // Now and then a flat kernel: the lines must give 0, as the trace does.
            let w = if ran[0] % 17 == 3 {
                vec![0.25; k[0] * k[1]]
            } else {
                rand(k[0] * k[1], &mut rng)
            };
            let t = corr_trace::trace_with(&x, size[0], size[1], &w, k[0], k[1], &g, mode).unwrap();
            let run = Run::lines(&code, &[("x", image(&x, size)), ("w", image(&w, k))]);
            assert_eq!(run.of("torch.flip").len(), usize::from(flip));
            // Three convolutions with the setting's numbers: the centred kernel, Σx and Σx².
            let convs = run.of("F.conv2d");
            assert_eq!(convs.len(), 3, "{}", code.text);
            let [pt, pl, pb, pr] = g.padding;
            for c in &convs {
                assert_eq!(named(&c.2, "stride", 1), g.stride, "{}", code.text);
                assert_eq!(named(&c.2, "dilation", 1), g.dilation, "{}", code.text);
                let p = named(&c.2, "padding", 0);
                assert_eq!(
                    p,
                    if pt == pb && pl == pr {
                        [pt, pl]
                    } else {
                        [0, 0]
                    }
                );
            }
            if pt != pb || pl != pr {
                let pads = run.of("F.pad");
                assert_eq!(
                    pads[0].1[1].ints(),
                    vec![pl as i64, pr as i64, pt as i64, pb as i64]
                );
                ran[1] += 1;
            }
            let y = &run.env["y"];
            assert_eq!(hw(y), [t.out_h, t.out_w], "{}", code.text);
            close(y.data(), &t.output, &code.text);
            ran[2] += t.output.iter().filter(|&&v| v == 0.0).count();
            ran[0] += 1;
        }
    }
    assert!(ran[0] > 150 && ran[1] > 20 && ran[2] > 20, "{ran:?}");
    // The plain setting's lines are unchanged by the mode.
    let g = Conv2dParams::default().pad(1);
    let plain = corr_trace::Mode::default();
    assert_eq!(
        correlate_with([8, 8], [3, 3], &g, plain).unwrap(),
        correlate([8, 8], [3, 3], &g, false).unwrap()
    );
}

#[test]
fn the_conv_transpose2d_line_names_the_setting_and_computes_the_trace() {
    let mut rng = Rng::new(7);
    let (mut sym, mut asym, mut op) = (0, 0, 0);
    for (size, k, g) in table(&mut rng, 200) {
        let Ok(code) = transpose(size, k, &g) else {
            assert!(check(Op::Transpose, size, k, &g).is_err());
            continue;
        };
        let (x, w) = (
            rand(size[0] * size[1], &mut rng),
            rand(k[0] * k[1], &mut rng),
        );
        let t = trans_trace::trace(&x, size[0], size[1], &w, k[0], k[1], &g).unwrap();
        let run = Run::lines(&code, &[("x", image(&x, size)), ("w", image(&w, k))]);
        let convs = run.of("F.conv_transpose2d");
        assert_eq!(convs.len(), 1);
        let kw = &convs[0].2;
        assert_eq!(named(kw, "stride", 1), g.stride, "{}", code.text);
        assert_eq!(named(kw, "dilation", 1), g.dilation, "{}", code.text);
        assert_eq!(
            named(kw, "output_padding", 0),
            g.output_padding,
            "{}",
            code.text
        );
        let [pt, pl, pb, pr] = g.padding;
        let lines = parse(&code);
        if pt == pb && pl == pr {
            assert_eq!(lines.len(), 1, "{}", code.text);
            assert_eq!(named(kw, "padding", 0), [pt, pl], "{}", code.text);
            sym += 1;
        } else {
            // padding=0, then the crop: top:H−bottom, left:W−right of the uncropped output.
            assert!(!kw.contains_key("padding"));
            let Stmt::Assign(_, Expr::Index(_, items)) = &lines[1] else {
                panic!("{}", code.text)
            };
            let bounds = |e: &Expr| match e {
                Expr::Slice(Some(a), Some(b)) => [a.int() as usize, b.int() as usize],
                e => panic!("{e:?}"),
            };
            assert_eq!(bounds(&items[1]), [pt, t.full_h - pb], "{}", code.text);
            assert_eq!(bounds(&items[2]), [pl, t.full_w - pr], "{}", code.text);
            asym += 1;
        }
        op += usize::from(g.output_padding != [0, 0]);
        let y = &run.env["y"];
        assert_eq!(hw(y), [t.out_h, t.out_w], "{}", code.text);
        close(y.data(), &t.output, &code.text);
    }
    assert!(sym > 4 && asym > 4 && op > 4, "{sym} {asym} {op}");
    let g = Conv2dParams::default().stride(2).pad(1).output_padding(1);
    assert_eq!(
        transpose([4, 4], [3, 3], &g).unwrap().text,
        "y = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)"
    );
}

#[test]
fn the_checkerboard_lines_compute_both_paths() {
    let mut rng = Rng::new(3);
    let mut odd_crop = 0;
    for n in [1, 3, 5] {
        for kh in 1..=checkerboard::MAX_KERNEL {
            for s in 1..=checkerboard::MAX_STRIDE {
                let (size, k, stride) = ([n, n + 1], [kh, (kh % 4) + 1], [s, (s % 3) + 1]);
                let code = super::checkerboard(size, k, stride).unwrap();
                let (x, w) = (
                    rand(size[0] * size[1], &mut rng),
                    rand(k[0] * k[1], &mut rng),
                );
                let cb = trans_trace::checkerboard(&x, size, &w, k, stride).unwrap();
                let run = Run::lines(&code, &[("x", image(&x, size)), ("w", image(&w, k))]);
                assert_eq!(run.of("F.conv_transpose2d").len(), 2);
                assert_eq!(run.of("F.interpolate").len(), 2);
                for c in run.of("F.interpolate") {
                    assert_eq!(c.2["scale_factor"].pair(), stride);
                }
                for c in run.of("F.conv_transpose2d") {
                    assert_eq!(named(&c.2, "stride", 1), stride);
                }
                for c in run.of("F.conv2d") {
                    assert_eq!(named(&c.2, "stride", 1), [1, 1]);
                }
                odd_crop += run.of("F.pad").len();
                let (y, z) = (&run.env["y"], &run.env["z"]);
                let (ty, tz) = (&cb.transposed[1], &cb.resize[1]);
                assert_eq!(hw(y), [ty.h, ty.w], "{}", code.text);
                assert_eq!(hw(z), [tz.h, tz.w], "{}", code.text);
                close(y.data(), &ty.output, &code.text);
                close(z.data(), &tz.output, &code.text);
            }
        }
    }
    assert!(odd_crop > 0);
    assert!(super::checkerboard([2, 2], [3, 3], [4, 2]).is_err());
}

#[test]
fn bad_settings_are_refused_as_the_traces_refuse_them() {
    let x = vec![0.5; 64];
    let w = vec![1.0; 9];
    for g in [
        Conv2dParams::default().stride(0),
        Conv2dParams::default().dilation(9),
        Conv2dParams::default().output_padding(1),
        Conv2dParams::default().pad(200),
    ] {
        let a = correlate([8, 8], [3, 3], &g, false)
            .unwrap_err()
            .to_string();
        let b = corr_trace::trace(&x, 8, 8, &w, 3, 3, &g, false)
            .unwrap_err()
            .to_string();
        assert_eq!(a, b);
    }
    for g in [
        Conv2dParams::default().output_padding(1),
        Conv2dParams::default().pad(5),
    ] {
        let a = transpose([8, 8], [3, 3], &g).unwrap_err().to_string();
        let b = trans_trace::trace(&x, 8, 8, &w, 3, 3, &g)
            .unwrap_err()
            .to_string();
        assert_eq!(a, b);
    }
    assert!(schedules(24, 6, 24)
        .unwrap_err()
        .to_string()
        .contains("shift"));
    assert!(schedules(0, 6, 0)
        .unwrap_err()
        .to_string()
        .contains("length"));
    assert!(one_by_one(9, 2, [4, 4]).is_err());
    assert!(param_counts([0, 1], 1, 1, 3, 10).is_err());
}

// ---------------------------------------------------------------- dense

/// `F.conv1d(b, a, padding=p)` for `(1, C, L)` tensors, as PyTorch defines it (a
/// cross-correlation of the padded input with the weight).
fn conv1d(b: &[f32], a: &[f32], c: usize, l: usize, p: usize) -> Vec<f32> {
    let out = l + 2 * p - l + 1;
    (0..out)
        .map(|j| {
            let mut s = 0.0;
            for ch in 0..c {
                for x in 0..l {
                    let u = j + x;
                    if u >= p && u - p < l {
                        s += b[ch * l + u - p] * a[ch * l + x];
                    }
                }
            }
            s
        })
        .collect()
}

#[test]
fn the_dense_lines_index_the_correlation_the_trace_computes() {
    let mut rng = Rng::new(5);
    for (len, channels) in [(24, 6), (5, 2), (1, 1), (13, 16)] {
        let a: Vec<u8> = (0..len)
            .map(|_| (rng.next_u32() as usize % channels) as u8)
            .collect();
        let b: Vec<u8> = (0..len)
            .map(|_| (rng.next_u32() as usize % channels) as u8)
            .collect();
        let t = dense::schedules(&a, &b, channels).unwrap();
        let hot = |s: &[u8]| -> Vec<f32> {
            (0..channels * len)
                .map(|i| f32::from(s[i % len] as usize == i / len))
                .collect()
        };
        for shift in [-(len as i64 - 1), 0, len as i64 / 2] {
            let code = schedules(len, channels, shift).unwrap();
            let p = parse(&code);
            let Stmt::Assign(_, Expr::Call(f, args, kw)) = &p[0] else {
                panic!("{}", code.text)
            };
            assert_eq!(f.path().unwrap(), "F.conv1d");
            assert_eq!(args, &[Expr::Name("b".into()), Expr::Name("a".into())]);
            let pad = kw[0].1.int() as usize;
            let corr = conv1d(&hot(&b), &hot(&a), channels, len, pad);
            assert_eq!(corr, t.total, "{}", code.text);
            let Stmt::Expr(Expr::Index(_, idx)) = &p[1] else {
                panic!()
            };
            assert_eq!(idx[..2], [Expr::Int(0), Expr::Int(0)]);
            let at = idx[2].int() as usize;
            assert_eq!(t.shifts[at], shift as i32);
            assert_eq!(corr[at], t.total[(t.zero as i64 + shift) as usize]);
            let Stmt::Expr(Expr::Call(f, args, _)) = &p[2] else {
                panic!()
            };
            assert_eq!(f.path().unwrap(), "F.linear");
            // a.flatten(1) · b.flatten(1): the dense layer's value, F(0).
            for (arg, name) in args.iter().zip(["a", "b"]) {
                let Expr::Call(f, fa, _) = arg else { panic!() };
                assert_eq!(f.path().unwrap(), format!("{name}.flatten"));
                assert_eq!(fa, &[Expr::Int(1)]);
            }
            let dot: f32 = hot(&a).iter().zip(hot(&b)).map(|(x, y)| x * y).sum();
            assert_eq!(dot, t.dense);
            assert_eq!(corr[pad], t.dense);
        }
    }
}

#[test]
fn the_one_by_one_and_parameter_lines_name_their_numbers() {
    let code = one_by_one(3, 2, [4, 4]).unwrap();
    let p = parse(&code);
    let Stmt::Assign(_, Expr::Call(_, args, _)) = &p[0] else {
        panic!()
    };
    let Expr::Call(f, view, _) = &args[1] else {
        panic!()
    };
    assert_eq!(f.path().unwrap(), "w.view");
    assert_eq!(
        view.iter().map(Expr::int).collect::<Vec<_>>(),
        vec![2, 3, 1, 1]
    );
    let code = param_counts([1000, 1000], 3, 8, 5, 1000).unwrap();
    let p = parse(&code);
    let c = dense::param_counts(1000, 1000, 3, 8, 5, 1000).unwrap();
    let Stmt::Expr(Expr::Call(f, args, _)) = &p[0] else {
        panic!()
    };
    assert_eq!(f.path().unwrap(), "nn.Linear");
    let [i, o] = [args[0].int() as u128, args[1].int() as u128];
    assert_eq!((i, o), (c.inputs, 1000));
    assert_eq!(i * o + o, c.dense_hidden);
    let Stmt::Expr(Expr::Call(f, args, kw)) = &p[1] else {
        panic!()
    };
    assert_eq!(f.path().unwrap(), "nn.Conv2d");
    let [ci, co] = [args[0].int() as u128, args[1].int() as u128];
    let k = kw[0].1.pair();
    assert_eq!((ci, co, k), (3, 8, [5, 5]));
    assert_eq!(co * ci * 25 + co, c.conv);
}

// ---------------------------------------------------------------- models

/// Runs an `nn.Sequential`'s layers over a `(1, 1, 28, 28)` shape by PyTorch's formulas and
/// checks each layer's numbers against the model's; returns the shapes (without the batch).
fn sequential_shapes(m: &Model, e: &Expr) -> Vec<Vec<usize>> {
    let Expr::Call(f, layers, _) = e else {
        panic!("{e:?}")
    };
    assert_eq!(f.path().unwrap(), "nn.Sequential");
    assert_eq!(layers.len(), m.layers.len());
    let mut shape = vec![1usize, 28, 28];
    let mut out = vec![shape.clone()];
    for (l, e) in m.layers.iter().zip(layers) {
        let Expr::Call(f, args, kw) = e else {
            panic!("{e:?}")
        };
        let kw: HashMap<String, Expr> = kw.iter().cloned().collect();
        let name = f.path().unwrap();
        shape = match (l, name.as_str()) {
            (Layer::Conv2d { weight, params, .. }, "nn.Conv2d") => {
                let w = weight.shape();
                assert_eq!(
                    args.iter().map(|a| a.int() as usize).collect::<Vec<_>>(),
                    [w[1], w[0]]
                );
                assert_eq!(shape[0], w[1], "in_channels");
                let k = kw["kernel_size"].pair();
                assert_eq!(k, [w[2], w[3]]);
                let (s, p, d) = (
                    named(&kw, "stride", 1),
                    named(&kw, "padding", 0),
                    named(&kw, "dilation", 1),
                );
                assert_eq!(
                    (s, [p[0], p[1], p[0], p[1]], d),
                    (params.stride, params.padding, params.dilation)
                );
                vec![
                    w[0],
                    conv_out(shape[1], k[0], s[0], p[0], d[0]),
                    conv_out(shape[2], k[1], s[1], p[1], d[1]),
                ]
            }
            (Layer::MaxPool2d { params }, "nn.MaxPool2d") => {
                let k = args.first().unwrap_or_else(|| &kw["kernel_size"]).pair();
                let s = kw.get("stride").map_or(k, Expr::pair);
                let (p, d) = (named(&kw, "padding", 0), named(&kw, "dilation", 1));
                assert_eq!(
                    (k, s, [p[0], p[1], p[0], p[1]], d),
                    (
                        params.kernel,
                        params.stride,
                        params.padding,
                        params.dilation
                    )
                );
                vec![
                    shape[0],
                    conv_out(shape[1], k[0], s[0], p[0], d[0]),
                    conv_out(shape[2], k[1], s[1], p[1], d[1]),
                ]
            }
            (Layer::Linear { weight, .. }, "nn.Linear") => {
                let w = weight.shape();
                assert_eq!(
                    args.iter().map(|a| a.int() as usize).collect::<Vec<_>>(),
                    [w[1], w[0]]
                );
                assert_eq!(shape, vec![w[1]], "in_features");
                vec![w[0]]
            }
            (Layer::Flatten, "nn.Flatten") => vec![shape.iter().product()],
            (Layer::Relu, "nn.ReLU") => shape,
            (Layer::Softmax, "nn.Softmax") => {
                assert_eq!(kw["dim"], Expr::Int(1));
                shape
            }
            (l, n) => panic!("{l:?} written as {n}"),
        };
        out.push(shape.clone());
    }
    out
}

#[test]
fn each_model_is_written_as_an_nn_sequential_of_its_layers() {
    for arch in Preset::ALL {
        let m = arch.init(1);
        let code = sequential(&m);
        let p = parse(&code);
        assert_eq!(p.len(), 1);
        let Stmt::Assign(n, e) = &p[0] else { panic!() };
        assert_eq!(n, "model");
        assert_eq!(sequential_shapes(&m, e), m.shapes(), "{}", code.text);
        // One layer a line, named as the page names it.
        for (line, name) in code.lines[1..].iter().zip(m.names()) {
            assert!(line.ends_with(&format!("  # {name}")), "{line}");
        }
    }
    assert_eq!(
        sequential(&Preset::Cnn.zeros()).lines[1..4],
        [
            "    nn.Conv2d(1, 8, kernel_size=5, padding=2),  # conv1",
            "    nn.ReLU(),  # relu1",
            "    nn.MaxPool2d(2),  # pool1"
        ]
    );
}

#[test]
fn layer_constructors_spell_out_every_geometry() {
    let conv = |g: Conv2dParams, k: [usize; 2]| Layer::Conv2d {
        name: "c".into(),
        weight: Tensor::zeros(&[4, 2 / g.groups, k[0], k[1]]).unwrap(),
        bias: Tensor::zeros(&[4]).unwrap(),
        params: g,
        has_bias: true,
    };
    let g = Conv2dParams {
        stride: [1, 2],
        padding: [1, 2, 1, 2],
        dilation: [2, 2],
        groups: 2,
        output_padding: [0, 0],
    };
    assert_eq!(
        layer(&conv(g, [3, 5])),
        "nn.Conv2d(2, 4, kernel_size=(3, 5), stride=(1, 2), padding=(1, 2), dilation=2, groups=2)"
    );
    let g = Conv2dParams {
        padding: [0, 1, 2, 3],
        ..Default::default()
    };
    assert_eq!(
        layer(&conv(g, [3, 3])),
        "nn.Sequential(nn.ZeroPad2d((1, 3, 0, 2)), nn.Conv2d(2, 4, kernel_size=3))"
    );
    let mut p = Pool2dParams::new([3, 3]);
    p.stride = [2, 2];
    p.padding = [1; 4];
    p.ceil_mode = true;
    assert_eq!(
        layer(&Layer::MaxPool2d { params: p }),
        "nn.MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True)"
    );
    p.padding = [0, 1, 1, 0];
    p.ceil_mode = false;
    let s = layer(&Layer::MaxPool2d { params: p });
    assert_eq!(
        s,
        "nn.Sequential(nn.ConstantPad2d((1, 0, 0, 1), float('-inf')), nn.MaxPool2d(kernel_size=3, stride=2))"
    );
    parse(&Code::new(vec![s]));
}

#[test]
fn the_train_lines_name_the_trainers_settings() {
    for arch in Preset::ALL {
        for (opt, lr) in [
            (OptimizerKind::Sgd, 0.1f32),
            (OptimizerKind::Momentum, 0.05),
            (OptimizerKind::Adam, 0.002),
            (OptimizerKind::Adam, 1e-4),
        ] {
            let s = Settings {
                spec: arch.spec(),
                optimizer: opt,
                lr,
                batch: 32,
                schedule: Schedule::Constant,
                augment: None,
                init: Init::Zeros,
                seed: 1,
            };
            let code = train(&s).unwrap();
            let p = parse(&code);
            let Stmt::Assign(_, seq) = &p[0] else {
                panic!()
            };
            let m = arch.zeros();
            assert_eq!(sequential_shapes(&m, seq), m.shapes());
            let Stmt::Assign(_, Expr::Call(_, _, kw)) = &p[1] else {
                panic!()
            };
            assert_eq!(kw[0], ("batch_size".to_string(), Expr::Int(32)));
            let Stmt::Assign(n, Expr::Call(f, args, kw)) = &p[2] else {
                panic!()
            };
            assert_eq!(n, "opt");
            let want = if opt == OptimizerKind::Adam {
                "torch.optim.Adam"
            } else {
                "torch.optim.SGD"
            };
            assert_eq!(f.path().unwrap(), want);
            let Expr::Call(f, _, _) = &args[0] else {
                panic!()
            };
            assert_eq!(f.path().unwrap(), "model.parameters");
            let kw: HashMap<String, Expr> = kw.iter().cloned().collect();
            let Expr::Float(l) = kw["lr"] else { panic!() };
            assert_eq!(l as f32, lr, "{}", code.text);
            let momentum = kw.get("momentum").map(|m| match m {
                Expr::Float(v) => *v,
                e => panic!("{e:?}"),
            });
            assert_eq!(momentum, (opt == OptimizerKind::Momentum).then_some(0.9));
        }
    }
    let mut s = Settings::for_page(Preset::Cnn);
    s.lr = -1.0;
    assert!(train(&s).unwrap_err().to_string().contains("lr"));
}
