//! The one table writer: every CSV northbound writes goes through it, so
//! that any id (with commas, quotes or line breaks) comes back whole in
//! pandas, R or a spreadsheet.
//!
//! Owns CSV quoting (`csv::Writer`: a field is quoted only when it needs
//! it, so tables of plain ids are the same bytes as before) and the shape of
//! a row (every row has the header's number of fields). Must not know what
//! any table means.
//!
//! ```
//! use northbound::table::Table;
//! let mut t = Table::new(Vec::new(), ["place", "people"]).unwrap();
//! t.cell("a, \"b\"").cell(12).end_row().unwrap();
//! t.cell("c").cell(format_args!("{:.3}", 0.5)).end_row().unwrap();
//! let bytes = t.finish().unwrap();
//! assert_eq!(bytes, b"place,people\n\"a, \"\"b\"\"\",12\nc,0.500\n");
//! ```

use crate::outdir::{OutDir, OutputError, TableFile};
use std::fmt::{Display, Write as _};
use std::io::{self, Write};

/// A CSV table being written: a header, then rows built cell by cell.
pub struct Table<W: Write> {
    w: csv::Writer<W>,
    row: csv::ByteRecord,
    buf: String,
}

impl<W: Write> Table<W> {
    /// Starts a table on `w` with its header.
    pub fn new<I, S>(w: W, header: I) -> io::Result<Table<W>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(w);
        let header: Vec<String> = header.into_iter().map(|s| s.as_ref().to_string()).collect();
        w.write_record(&header)?;
        Ok(Table {
            w,
            row: csv::ByteRecord::new(),
            buf: String::new(),
        })
    }

    /// Adds a cell to the current row: any value that displays (ids,
    /// numbers, dates; `format_args!("{:.3}", x)` for a fixed precision).
    pub fn cell(&mut self, v: impl Display) -> &mut Self {
        self.buf.clear();
        let _ = write!(self.buf, "{v}");
        self.row.push_field(self.buf.as_bytes());
        self
    }

    /// Writes the current row.
    pub fn end_row(&mut self) -> io::Result<()> {
        let r = self.w.write_byte_record(&self.row);
        self.row.clear();
        Ok(r?)
    }

    /// Writes a whole row.
    pub fn row<I, D>(&mut self, cells: I) -> io::Result<()>
    where
        I: IntoIterator<Item = D>,
        D: Display,
    {
        for c in cells {
            self.cell(c);
        }
        self.end_row()
    }

    /// Flushes the table and gives its writer back.
    pub fn finish(self) -> io::Result<W> {
        self.w.into_inner().map_err(|e| io::Error::other(e.to_string()))
    }
}

impl OutDir {
    /// Starts the table `name` (e.g. `places.csv`) in the folder.
    pub fn table<I, S>(&self, name: &str, header: I) -> Result<Table<TableFile>, OutputError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let f = self.file(name)?;
        Table::new(f, header).map_err(|source| OutputError::Io {
            path: name.into(),
            source,
        })
    }

    /// Finishes a table started with [`OutDir::table`].
    pub fn finish_table(&mut self, t: Table<TableFile>) -> Result<(), OutputError> {
        let f = t.finish().map_err(|source| OutputError::Io {
            path: "table".into(),
            source,
        })?;
        self.finish(f)
    }

    /// Writes the whole table `name`: its header, then one row for each
    /// of `rows` with the cells `fill` adds (the row is ended here, so a
    /// writer says only what its cells are).
    pub(crate) fn write_table<S, R>(
        &mut self,
        name: &str,
        header: impl IntoIterator<Item = S>,
        rows: impl IntoIterator<Item = R>,
        mut fill: impl FnMut(&mut Table<TableFile>, R),
    ) -> Result<(), OutputError>
    where
        S: AsRef<str>,
    {
        let mut t = self.table(name, header)?;
        for r in rows {
            fill(&mut t, r);
            t.end_row().map_err(table_err(name))?;
        }
        self.finish_table(t)
    }
}

/// An error writing the table `name`.
pub(crate) fn table_err(name: &str) -> impl Fn(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: name.into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_with_commas_quotes_and_newlines_come_back_whole() {
        let ids = ["plain", "a,b", "say \"no\"", "two\nlines", "", " lead", "é,ü"];
        let mut t = Table::new(Vec::new(), ["id", "n"]).unwrap();
        for (i, id) in ids.iter().enumerate() {
            t.cell(id).cell(i).end_row().unwrap();
        }
        let bytes = t.finish().unwrap();
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let back: Vec<String> = r.records().map(|x| x.unwrap()[0].to_string()).collect();
        assert_eq!(back, ids);
    }

    #[test]
    fn plain_fields_are_not_quoted() {
        let mut t = Table::new(Vec::new(), ["day", "date", "place"]).unwrap();
        t.row(["0", "2025-01-01", "tapachula"]).unwrap();
        assert_eq!(t.finish().unwrap(), b"day,date,place\n0,2025-01-01,tapachula\n");
    }

    #[test]
    fn a_row_of_the_wrong_length_is_an_error() {
        let mut t = Table::new(Vec::new(), ["a", "b"]).unwrap();
        assert!(t.row(["1"]).is_err());
    }
}
