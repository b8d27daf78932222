//! Frames kept in memory, compressed, between being computed and being written: each
//! column in its physical form (category numbers, not their text; days and
//! milliseconds, not dates), the whole frame one LZ4 block.
//!
//! [`super::pieces`] keeps every month's rows of every piece this way until the month is
//! written. Arrow IPC did the same job at several times the cost (measured at 10 M rows:
//! a quarter of the A&E pass's CPU): it turned every categorical column into a
//! dictionary of strings and back for each slice, and checksummed every frame. These
//! bytes never leave the process, so neither is needed; a frame is read back with the
//! schema it was kept with.

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

/// Appends `df`, compressed, to `out`.
pub fn keep(df: &DataFrame, out: &mut Vec<u8>) -> PolarsResult<()> {
    let mut raw = Vec::new();
    raw.extend_from_slice(&(df.height() as u64).to_le_bytes());
    for column in df.columns() {
        let series = column.as_materialized_series().rechunk();
        let physical = series.to_physical_repr();
        put_validity(&physical, &mut raw);
        put_values(&physical, &mut raw)?;
    }
    let bound = lz4::block::compress_bound(raw.len()).map_err(lz4_error)? + 4;
    let start = out.len();
    out.resize(start + bound, 0);
    let written =
        lz4::block::compress_to_buffer(&raw, None, true, &mut out[start..]).map_err(lz4_error)?;
    out.truncate(start + written);
    Ok(())
}

/// A frame kept by [`keep`], read back with the `schema` it had.
pub fn read(bytes: &[u8], schema: &Schema) -> PolarsResult<DataFrame> {
    let raw = lz4::block::decompress(bytes, None).map_err(lz4_error)?;
    let mut at = Reader { raw: &raw, at: 0 };
    let rows = usize::try_from(u64::from_le_bytes(at.array()?))
        .map_err(|_| polars_err!(ComputeError: "a kept frame with too many rows"))?;
    let mut columns = Vec::with_capacity(schema.len());
    for (name, dtype) in schema.iter() {
        let validity = at.validity(rows)?;
        let physical = at.values(name.clone(), &dtype.to_physical(), rows, validity)?;
        let column = match dtype {
            DataType::Categorical(..) | DataType::Enum(..) => {
                Series::from_cats_and_dtype(&physical, dtype, true)?
            }
            _ => physical.cast(dtype)?,
        };
        columns.push(column.into_column());
    }
    if at.at != raw.len() {
        polars_bail!(ComputeError: "a kept frame has {} bytes after its last column", raw.len() - at.at);
    }
    DataFrame::new(rows, columns)
}

fn lz4_error(e: std::io::Error) -> PolarsError {
    polars_err!(ComputeError: "keeping rows compressed: {e}")
}

/// A flag, then (when the column has nulls) one bit per row.
fn put_validity(series: &Series, raw: &mut Vec<u8>) {
    let validity = series
        .chunks()
        .first()
        .and_then(|a| a.validity())
        .filter(|_| series.null_count() > 0);
    match validity {
        None => raw.push(0),
        Some(bits) => {
            raw.push(1);
            let mut byte = 0u8;
            for (i, valid) in bits.iter().enumerate() {
                byte |= u8::from(valid) << (i % 8);
                if i % 8 == 7 {
                    raw.push(byte);
                    byte = 0;
                }
            }
            if bits.len() % 8 != 0 {
                raw.push(byte);
            }
        }
    }
}

/// Fixed-width values written as little-endian bytes.
trait Plain: Sized + Copy {
    const SIZE: usize;
    fn put(self, raw: &mut Vec<u8>);
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! plain {
    ($($t:ty),*) => {$(
        impl Plain for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, raw: &mut Vec<u8>) {
                raw.extend_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                let mut b = [0u8; std::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                <$t>::from_le_bytes(b)
            }
        }
    )*};
}
plain!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

fn put_numeric<T>(ca: &ChunkedArray<T>, raw: &mut Vec<u8>)
where
    T: PolarsNumericType,
    T::Native: Plain,
{
    raw.reserve(ca.len() * T::Native::SIZE);
    for arr in ca.downcast_iter() {
        for v in arr.values().iter() {
            v.put(raw);
        }
    }
}

/// The values of a physical column; a null's slot holds whatever the array held.
fn put_values(series: &Series, raw: &mut Vec<u8>) -> PolarsResult<()> {
    match series.dtype() {
        DataType::UInt8 => put_numeric(series.u8()?, raw),
        DataType::UInt16 => put_numeric(series.u16()?, raw),
        DataType::UInt32 => put_numeric(series.u32()?, raw),
        DataType::UInt64 => put_numeric(series.u64()?, raw),
        DataType::Int8 => put_numeric(series.i8()?, raw),
        DataType::Int16 => put_numeric(series.i16()?, raw),
        DataType::Int32 => put_numeric(series.i32()?, raw),
        DataType::Int64 => put_numeric(series.i64()?, raw),
        DataType::Float32 => put_numeric(series.f32()?, raw),
        DataType::Float64 => put_numeric(series.f64()?, raw),
        DataType::Boolean => {
            for v in series.bool()?.iter() {
                raw.push(u8::from(v.unwrap_or(false)));
            }
        }
        DataType::String => {
            let ca = series.str()?;
            for v in ca.iter() {
                let n = u32::try_from(v.map_or(0, str::len))
                    .map_err(|_| polars_err!(ComputeError: "cannot keep a string of 4 GiB"))?;
                n.put(raw);
            }
            for v in ca.iter().flatten() {
                raw.extend_from_slice(v.as_bytes());
            }
        }
        other => polars_bail!(ComputeError: "cannot keep a column of type {other}"),
    }
    Ok(())
}

/// Reads a kept frame's bytes in order.
struct Reader<'a> {
    raw: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> PolarsResult<&'a [u8]> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.raw.len())
            .ok_or_else(|| polars_err!(ComputeError: "a kept frame ends early"))?;
        let bytes = &self.raw[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> PolarsResult<[u8; N]> {
        let mut b = [0u8; N];
        b.copy_from_slice(self.take(N)?);
        Ok(b)
    }

    fn validity(&mut self, rows: usize) -> PolarsResult<Option<Bitmap>> {
        match self.take(1)?[0] {
            0 => Ok(None),
            _ => Ok(Some(Bitmap::from_u8_vec(
                self.take(rows.div_ceil(8))?.to_vec(),
                rows,
            ))),
        }
    }

    fn numeric<T>(
        &mut self,
        name: PlSmallStr,
        rows: usize,
        validity: Option<Bitmap>,
    ) -> PolarsResult<Series>
    where
        T: PolarsNumericType,
        T::Native: Plain,
    {
        let bytes = self.take(rows * T::Native::SIZE)?;
        let values: Vec<T::Native> = bytes
            .chunks_exact(T::Native::SIZE)
            .map(T::Native::get)
            .collect();
        Ok(ChunkedArray::<T>::from_vec_validity(name, values, validity).into_series())
    }

    fn values(
        &mut self,
        name: PlSmallStr,
        dtype: &DataType,
        rows: usize,
        validity: Option<Bitmap>,
    ) -> PolarsResult<Series> {
        match dtype {
            DataType::UInt8 => self.numeric::<UInt8Type>(name, rows, validity),
            DataType::UInt16 => self.numeric::<UInt16Type>(name, rows, validity),
            DataType::UInt32 => self.numeric::<UInt32Type>(name, rows, validity),
            DataType::UInt64 => self.numeric::<UInt64Type>(name, rows, validity),
            DataType::Int8 => self.numeric::<Int8Type>(name, rows, validity),
            DataType::Int16 => self.numeric::<Int16Type>(name, rows, validity),
            DataType::Int32 => self.numeric::<Int32Type>(name, rows, validity),
            DataType::Int64 => self.numeric::<Int64Type>(name, rows, validity),
            DataType::Float32 => self.numeric::<Float32Type>(name, rows, validity),
            DataType::Float64 => self.numeric::<Float64Type>(name, rows, validity),
            DataType::Boolean => {
                let bytes = self.take(rows)?;
                let valid = |i: usize| validity.as_ref().is_none_or(|v| v.get_bit(i));
                Ok(bytes
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| valid(i).then_some(b != 0))
                    .collect::<BooleanChunked>()
                    .with_name(name)
                    .into_series())
            }
            DataType::String => {
                let mut lengths = Vec::with_capacity(rows);
                for _ in 0..rows {
                    lengths.push(u32::from_le_bytes(self.array()?) as usize);
                }
                let text = std::str::from_utf8(self.take(lengths.iter().sum())?)
                    .map_err(|e| polars_err!(ComputeError: "a kept string is not UTF-8: {e}"))?;
                let mut builder = StringChunkedBuilder::new(name, rows);
                let mut start = 0;
                for (i, n) in lengths.into_iter().enumerate() {
                    if validity.as_ref().is_some_and(|v| !v.get_bit(i)) {
                        builder.append_null();
                        continue;
                    }
                    let value = text.get(start..start + n).ok_or_else(
                        || polars_err!(ComputeError: "a kept string splits a character"),
                    )?;
                    builder.append_value(value);
                    start += n;
                }
                Ok(builder.finish().into_series())
            }
            other => polars_bail!(ComputeError: "cannot read back a kept column of type {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of column an entity holds, with nulls, from several chunks.
    fn frame() -> DataFrame {
        let n = 1000usize;
        let mut df = df!(
            "day" => (0..n).map(|i| (i % 7 != 3).then_some(20_000 + (i as i32 * 37) % 90)).collect::<Vec<_>>(),
            "at" => (0..n).map(|i| (i % 11 != 0).then_some(1_700_000_000_000i64 + i as i64 * 61_000)).collect::<Vec<_>>(),
            "code" => (0..n).map(|i| (i % 5 != 0).then(|| format!("C{}", i % 13))).collect::<Vec<_>>(),
            "id" => (0..n).map(|i| (i % 9 != 0).then(|| format!("attendance-{i}-é"))).collect::<Vec<_>>(),
            "person" => (0..n).map(|i| (i % 4 != 0).then_some(i as u32 * 3)).collect::<Vec<_>>(),
            "n" => (0..n as i64).collect::<Vec<_>>(),
            "x" => (0..n).map(|i| i as f64 / 7.0).collect::<Vec<_>>(),
            "flag" => (0..n).map(|i| (i % 6 != 1).then_some(i % 2 == 0)).collect::<Vec<_>>(),
        )
        .unwrap()
        .lazy()
        .with_columns([
            col("day").cast(DataType::Date),
            col("at").cast(DataType::Datetime(TimeUnit::Milliseconds, None)),
            col("code").cast(crate::normalise::categorical()),
        ])
        .collect()
        .unwrap();
        let tail = df.slice(500, 500);
        df = df.slice(0, 500);
        df.vstack_mut_owned(tail).unwrap();
        assert!(df.columns()[0].n_chunks() > 1);
        df
    }

    fn round_trip(df: &DataFrame) -> DataFrame {
        let mut bytes = vec![7u8; 3];
        keep(df, &mut bytes).unwrap();
        read(&bytes[3..], df.schema()).unwrap()
    }

    #[test]
    fn every_kind_of_column_reads_back_the_same_with_its_nulls() {
        let df = frame();
        let back = round_trip(&df);
        assert_eq!(back.schema(), df.schema());
        assert!(back.equals_missing(&df));
        assert_eq!(back.column("code").unwrap().null_count(), 200);
        assert_eq!(back.column("id").unwrap().null_count(), 112);
    }

    #[test]
    fn a_slice_reads_back_as_the_slice() {
        let df = frame();
        for (offset, len) in [(0, 0), (3, 1), (13, 500), (999, 1)] {
            let part = df.slice(offset, len);
            assert!(round_trip(&part).equals_missing(&part), "{offset} {len}");
        }
    }

    #[test]
    fn several_frames_appended_read_back_one_by_one() {
        let df = frame();
        let (a, b) = (df.slice(0, 100), df.slice(100, 250));
        let mut bytes = Vec::new();
        keep(&a, &mut bytes).unwrap();
        let cut = bytes.len();
        keep(&b, &mut bytes).unwrap();
        assert!(read(&bytes[..cut], df.schema()).unwrap().equals_missing(&a));
        assert!(read(&bytes[cut..], df.schema()).unwrap().equals_missing(&b));
    }

    /// The size is measured with categories of the test's own: a global
    /// categorical's numbers depend on what other tests put in the global
    /// categories first, and with them the compressed size (CI once saw 25,914
    /// bytes against 23,083 run alone).
    #[test]
    fn regression_a_kept_frame_is_smaller_than_its_columns_whatever_ran_before() {
        let dtype =
            DataType::from_categories(Categories::random("kept".into(), CategoricalPhysical::U32));
        let df = frame()
            .lazy()
            .with_column(col("code").cast(DataType::String).cast(dtype))
            .collect()
            .unwrap();
        let mut bytes = Vec::new();
        keep(&df, &mut bytes).unwrap();
        assert!(
            bytes.len() < df.estimated_size() / 2,
            "{} of {}",
            bytes.len(),
            df.estimated_size()
        );
    }

    #[test]
    fn bytes_that_are_not_a_kept_frame_are_an_error_not_a_panic() {
        let df = frame();
        let mut bytes = Vec::new();
        keep(&df, &mut bytes).unwrap();
        assert!(read(&bytes[..bytes.len() / 2], df.schema()).is_err());
        let narrower = df.select(["day"]).unwrap();
        let err = read(&bytes, narrower.schema()).unwrap_err().to_string();
        assert!(err.contains("after its last column"), "{err}");
    }

    #[test]
    fn a_column_type_it_cannot_keep_is_named() {
        let df = df!("d" => [1i64, 2])
            .unwrap()
            .lazy()
            .with_column(col("d").cast(DataType::Duration(TimeUnit::Milliseconds)))
            .collect()
            .unwrap();
        let s = df!("l" => [Series::new("a".into(), [1i32])]).unwrap();
        let err = keep(&s, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("cannot keep a column of type list"), "{err}");
        // A duration is kept as its whole number of units.
        assert!(round_trip(&df).equals_missing(&df));
    }
}
