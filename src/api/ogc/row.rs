//! A feature's property values packed at 8 bytes each.
//!
//! England's collections hold about 6 M property values, most of them
//! numbers; as [`PropValue`]s (16 bytes) they took about 96 MB. A row keeps
//! each value in one `u64`: a number as its own IEEE 754 bits, anything
//! else as a negative quiet NaN whose top 16 bits say what it is (null,
//! integer, boolean, text) and whose low 48 bits hold it (an integer of up
//! to 48 bits, a boolean, or the position of a text in the row's side
//! list). A number that is itself NaN is stored under a tag of its own, so
//! no float can be mistaken for a tag. Integers wider than 48 bits (none in
//! the atlas; a register entry could have one) go to the side list.
//!
//! [`Row::get`] reads a value back as a [`ValueRef`], which borrows the
//! text; [`Row::new`] and [`ValueRef::to_owned`] round-trip every
//! [`PropValue`] exactly (see the tests).

use super::encode;
use super::model::PropValue;

/// Top 16 bits of each tag; all are negative quiet NaNs above the one x86
/// produces (`0xFFF8…`), which is stored as [`TAG_NAN`] like any NaN.
const TAG_NULL: u64 = 0xFFF9;
const TAG_INT: u64 = 0xFFFA;
const TAG_BOOL: u64 = 0xFFFB;
const TAG_STR: u64 = 0xFFFC;
const TAG_JSON: u64 = 0xFFFD;
const TAG_NAN: u64 = 0xFFFE;
const TAG_WIDE_INT: u64 = 0xFFFF;
/// The 48 payload bits.
const PAYLOAD: u64 = (1 << 48) - 1;
/// Smallest top-16-bits value that is a tag.
const FIRST_TAG: u64 = TAG_NULL;

/// What the side list holds: texts, and integers too wide for a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Side {
    Text(Box<str>),
    Int(i64),
}

/// The property values of one feature, in schema order: 8 bytes per value
/// plus, per text, its string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    cells: Box<[u64]>,
    side: Box<[Side]>,
}

/// A property value read from a [`Row`] (or borrowed from a
/// [`PropValue`]): text is borrowed, not copied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// Not published / not applicable.
    Null,
    /// Whole number.
    Int(i64),
    /// Other number.
    Float(f64),
    /// Text.
    Str(&'a str),
    /// True or false.
    Bool(bool),
    /// Nested JSON, as its serialised text.
    Json(&'a str),
}

fn tagged(tag: u64, payload: u64) -> u64 {
    (tag << 48) | (payload & PAYLOAD)
}

/// Whether `i` fits the 48-bit signed payload.
fn fits_48(i: i64) -> bool {
    (-(1_i64 << 47)..(1_i64 << 47)).contains(&i)
}

impl Row {
    /// Packs `values` (in schema order).
    #[must_use]
    pub fn new(values: &[PropValue]) -> Self {
        let mut side = Vec::new();
        let mut to_side = |s: Side| {
            side.push(s);
            (side.len() - 1) as u64
        };
        let cells = values
            .iter()
            .map(|v| match v {
                PropValue::Null => tagged(TAG_NULL, 0),
                PropValue::Float(x) if x.is_nan() => tagged(TAG_NAN, 0),
                PropValue::Float(x) => x.to_bits(),
                // Two's complement, cut to 48 bits; read back sign-extended.
                #[allow(clippy::cast_sign_loss)]
                PropValue::Int(i) if fits_48(*i) => tagged(TAG_INT, *i as u64),
                PropValue::Int(i) => tagged(TAG_WIDE_INT, to_side(Side::Int(*i))),
                PropValue::Bool(b) => tagged(TAG_BOOL, u64::from(*b)),
                PropValue::Str(s) => tagged(TAG_STR, to_side(Side::Text((**s).into()))),
                PropValue::Json(s) => tagged(TAG_JSON, to_side(Side::Text((**s).into()))),
            })
            .collect();
        Self {
            cells,
            side: side.into_boxed_slice(),
        }
    }

    /// Number of values.
    #[must_use]
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the row holds no value.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The value at position `i`; `None` past the end.
    #[must_use]
    pub fn get(&self, i: usize) -> Option<ValueRef<'_>> {
        let bits = *self.cells.get(i)?;
        let tag = bits >> 48;
        if tag < FIRST_TAG {
            return Some(ValueRef::Float(f64::from_bits(bits)));
        }
        let payload = bits & PAYLOAD;
        let side = || usize::try_from(payload).ok().and_then(|k| self.side.get(k));
        Some(match tag {
            TAG_INT => {
                // Sign-extends the 48-bit payload.
                #[allow(clippy::cast_possible_wrap)]
                let i = ((payload << 16) as i64) >> 16;
                ValueRef::Int(i)
            }
            TAG_BOOL => ValueRef::Bool(payload != 0),
            TAG_NAN => ValueRef::Float(f64::NAN),
            TAG_STR | TAG_JSON | TAG_WIDE_INT => match side() {
                Some(Side::Text(s)) if tag == TAG_STR => ValueRef::Str(s),
                Some(Side::Text(s)) if tag == TAG_JSON => ValueRef::Json(s),
                Some(Side::Int(i)) => ValueRef::Int(*i),
                // Rows are only made by `new`, which never pairs a tag
                // with the wrong side entry.
                _ => ValueRef::Null,
            },
            _ => ValueRef::Null,
        })
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl Iterator<Item = ValueRef<'_>> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl From<Vec<PropValue>> for Row {
    fn from(values: Vec<PropValue>) -> Self {
        Self::new(&values)
    }
}

impl ValueRef<'_> {
    /// Writes the value as JSON.
    pub fn write_json(self, out: &mut String) {
        match self {
            ValueRef::Null => out.push_str("null"),
            ValueRef::Int(i) => encode::push_int(out, i),
            ValueRef::Float(f) => encode::push_f64(out, f),
            ValueRef::Str(s) => encode::push_str(out, s),
            ValueRef::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            ValueRef::Json(j) => out.push_str(j),
        }
    }

    /// The value as an owned [`PropValue`].
    #[must_use]
    pub fn to_owned(self) -> PropValue {
        match self {
            ValueRef::Null => PropValue::Null,
            ValueRef::Int(i) => PropValue::Int(i),
            ValueRef::Float(f) => PropValue::Float(f),
            ValueRef::Str(s) => PropValue::Str(s.into()),
            ValueRef::Bool(b) => PropValue::Bool(b),
            ValueRef::Json(j) => PropValue::Json(j.into()),
        }
    }
}

impl PropValue {
    /// The value borrowed as a [`ValueRef`].
    #[must_use]
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            PropValue::Null => ValueRef::Null,
            PropValue::Int(i) => ValueRef::Int(*i),
            PropValue::Float(f) => ValueRef::Float(*f),
            PropValue::Str(s) => ValueRef::Str(s),
            PropValue::Bool(b) => ValueRef::Bool(*b),
            PropValue::Json(j) => ValueRef::Json(j),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compares as the bits of floats, so that NaN and -0.0 count.
    fn same(a: &PropValue, b: &PropValue) -> bool {
        match (a, b) {
            (PropValue::Float(x), PropValue::Float(y)) => {
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
            }
            _ => a == b,
        }
    }

    #[test]
    fn every_kind_of_value_reads_back_as_it_was_packed() {
        let values = vec![
            PropValue::Null,
            PropValue::Int(0),
            PropValue::Int(-1),
            PropValue::Int((1 << 47) - 1),
            PropValue::Int(-(1 << 47)),
            PropValue::Int(1 << 47),
            PropValue::Int(-(1 << 47) - 1),
            PropValue::Int(i64::MAX),
            PropValue::Int(i64::MIN),
            PropValue::Float(0.0),
            PropValue::Float(-0.0),
            PropValue::Float(17.053),
            PropValue::Float(-1e300),
            PropValue::Float(f64::INFINITY),
            PropValue::Float(f64::NEG_INFINITY),
            PropValue::Float(f64::MIN_POSITIVE / 2.0),
            PropValue::Float(f64::NAN),
            // The NaNs x86 makes and the ones our tags are: still floats.
            PropValue::Float(f64::from_bits(0xFFF8_0000_0000_0000)),
            PropValue::Float(f64::from_bits(0xFFFC_0000_0000_0001)),
            PropValue::Float(f64::from_bits(0x7FF8_0000_0000_0000)),
            PropValue::Bool(true),
            PropValue::Bool(false),
            PropValue::Str("Oxford 001A".into()),
            PropValue::Str("".into()),
            PropValue::Str("Ynys Môn – “quoted”".into()),
            PropValue::Json("{\"a\":[1,2]}".into()),
            PropValue::Str("second text".into()),
        ];
        let row = Row::new(&values);
        assert_eq!(row.len(), values.len());
        assert_eq!(std::mem::size_of_val(&*row.cells), 8 * values.len());
        for (i, want) in values.iter().enumerate() {
            let got = row.get(i).unwrap().to_owned();
            assert!(same(&got, want), "{i}: {got:?} != {want:?}");
        }
        assert_eq!(row.get(values.len()), None);
        assert_eq!(row.iter().count(), values.len());
    }

    #[test]
    fn json_is_written_as_from_the_unpacked_value() {
        let values = [
            PropValue::Int(-(1 << 40)),
            PropValue::Float(2.5),
            PropValue::Str("a\"b".into()),
            PropValue::Null,
            PropValue::Bool(true),
            PropValue::Int(i64::MIN),
        ];
        let row = Row::new(&values);
        for (i, v) in values.iter().enumerate() {
            let (mut a, mut b) = (String::new(), String::new());
            v.write_json(&mut a);
            row.get(i).unwrap().write_json(&mut b);
            assert_eq!(a, b);
        }
    }
}
