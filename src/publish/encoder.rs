//! Output files' Parquet serialisation, with a per-column choice polars' writer does not
//! offer: pseudonym columns are written plain (never as a dictionary).
//!
//! polars' writer decides each string column's encoding itself: it estimates the column's
//! distinct values by hashing every value, and dictionary-encodes when fewer than three in
//! four rows are distinct. A pseudonym (32 random hex digits) seldom repeats within a
//! month file, so the estimate (hashing 32 bytes per row) nearly always decides "plain"
//! and is mostly cost (~2 % of a run's CPU at 3.3 M rows). Their min/max statistics are
//! kept: no reader can prune by two random values, but DuckDB 2.0 reads a string column
//! with a null count and no min/max as having no rows to match, and returned nothing for
//! a filter or join on `person_id`. (Staged rows are not written here: there a
//! batch's pseudonyms often repeat, and the dictionary matters when they are read back;
//! see `ingest::read_range`.) Every other
//! column is encoded exactly as polars' writer encodes it (the same functions, options and
//! row groups), so files without pseudonym columns are byte-identical to polars' own.
//!
//! A file's pages are compressed one at a time as they are written; asked to
//! (`parallel`), a row group's columns are encoded and compressed at once on one thread
//! per core. Pages are written in column order, so the bytes never depend on it.
//!
//! zstd pages are compressed with one compression context per thread, kept for the
//! thread's life: polars-parquet makes (and zero-fills an output buffer for) a new context
//! for every page, ~1.5 % of a run's CPU. The frames are the same bytes (tested).

use std::cell::RefCell;
use std::io::Write;

use polars::prelude::*;
use polars_arrow::array::{DictionaryArray, MutableBinaryViewArray, PrimitiveArray, Utf8ViewArray};
use polars_arrow::datatypes::IntegerType;
use polars_parquet::parquet::CowBuffer;
use polars_parquet::parquet::compression::Compression;
use polars_parquet::parquet::page::{CompressedDataPage, CompressedDictPage, DataPageHeader};
use polars_parquet::write::{
    CompressedPage, CompressionOptions, DynIter, DynStreamingIterator, Encoding,
    FallibleStreamingIterator, FileWriter, KeyValue, Page, ParquetType, StatisticsOptions, Version,
    WriteOptions, array_to_columns, compress, fallible_streaming_iterator, get_dtype_encoding,
    to_parquet_schema,
};

/// The shared schema's pseudonym fields: keyed hashes, seldom repeated within a file.
pub const PSEUDONYM_FIELDS: [&str; 2] = ["person_id", "la_person_id"];

/// How one leaf column is written.
struct Leaf {
    parquet: ParquetType,
    encodings: Vec<Encoding>,
    options: WriteOptions,
}

/// What a file is for, which sets how its columns are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// An output file: statistics, pseudonyms plain.
    Output,
    /// Staged rows, read back whole by this program only: no statistics (no reader here
    /// would use them), every column encoded as polars chooses (a batch's pseudonyms
    /// often repeat, and a dictionary then keeps each once when numbering reads them
    /// back).
    Staging,
}

/// Writes frames as row groups of one Parquet file.
struct FrameWriter<W: Write> {
    file: FileWriter<W>,
    leaves: Vec<Leaf>,
    metadata: Option<Vec<KeyValue>>,
}

impl<W: Write> FrameWriter<W> {
    /// A writer for frames of `schema`; its [`PSEUDONYM_FIELDS`] are written plain. `metadata` replaces the file's key-value metadata (`None`: the
    /// Arrow schema of `schema`, as polars writes it).
    fn new(
        sink: W,
        schema: &Schema,
        compression: ParquetCompression,
        metadata: Option<Vec<KeyValue>>,
        layout: Layout,
    ) -> PolarsResult<Self> {
        let statistics = match layout {
            Layout::Output => StatisticsOptions::default(),
            Layout::Staging => StatisticsOptions::empty(),
        };
        let arrow = schema.to_arrow(CompatLevel::newest());
        let parquet = to_parquet_schema(&arrow)?;
        let options = WriteOptions {
            statistics,
            compression: CompressionOptions::from(compression),
            version: Version::V1,
            data_page_size: None,
        };
        let plain = options;
        let leaves = schema
            .iter()
            .zip(parquet.fields())
            .zip(arrow.iter_values())
            .map(|(((name, dtype), parquet), field)| {
                if layout == Layout::Output
                    && dtype == &DataType::String
                    && PSEUDONYM_FIELDS.contains(&name.as_str())
                {
                    Leaf {
                        parquet: parquet.clone(),
                        encodings: vec![Encoding::Plain],
                        options: plain,
                    }
                } else {
                    Leaf {
                        parquet: parquet.clone(),
                        encodings: get_dtype_encoding(&field.dtype),
                        options,
                    }
                }
            })
            .collect();
        Ok(FrameWriter {
            file: FileWriter::try_new(sink, arrow, options)?,
            leaves,
            metadata,
        })
    }

    /// Writes each chunk of `df` (chunks aligned across columns) as one row group.
    fn write(&mut self, df: &DataFrame, parallel: bool) -> PolarsResult<()> {
        let chunks = df.columns().first().map_or(0, |c| c.n_chunks()).max(1);
        for idx in 0..chunks {
            let arrays = df
                .columns()
                .iter()
                .map(|c| chunk_to_arrow(c.as_materialized_series(), idx))
                .collect::<PolarsResult<Vec<ArrayRef>>>()?;
            let rows = arrays.first().map_or(0, |a| a.len());
            if rows == 0 {
                continue;
            }
            let arrays = arrays.as_slice();
            if arrays.len() != self.leaves.len() {
                polars_bail!(ComputeError: "a frame of {} columns written to a file of {}", arrays.len(), self.leaves.len());
            }
            if parallel {
                // Every column's pages at once (one row group's worth), encoded and
                // compressed on one thread per core.
                let columns = self.encode_all(arrays)?;
                let group = DynIter::new(columns.iter().map(|pages| {
                    Ok(DynStreamingIterator::new(
                        fallible_streaming_iterator::convert(pages.iter().map(Ok)),
                    ))
                }));
                self.file.write(rows as u64, group)?;
            } else {
                // One page at a time, as the file writer asks for it: a file's pages are
                // never all held at once (holding them left ~60 MB more resident at
                // 10 M rows).
                let mut columns = Vec::with_capacity(self.leaves.len());
                for (array, leaf) in arrays.iter().zip(&self.leaves) {
                    for pages in array_to_columns(
                        array,
                        leaf.parquet.clone(),
                        leaf.options,
                        &leaf.encodings,
                    )? {
                        columns.push(Ok(DynStreamingIterator::new(OnePageAtATime {
                            pages,
                            compression: leaf.options.compression,
                            current: None,
                        })));
                    }
                }
                self.file
                    .write(rows as u64, DynIter::new(columns.into_iter()))?;
            }
        }
        Ok(())
    }

    /// Every leaf column's compressed pages, in column order, one thread per core.
    fn encode_all(&self, arrays: &[ArrayRef]) -> PolarsResult<Vec<Vec<CompressedPage>>> {
        let one = |(array, leaf): (&ArrayRef, &Leaf)| -> PolarsResult<Vec<Vec<CompressedPage>>> {
            array_to_columns(array, leaf.parquet.clone(), leaf.options, &leaf.encodings)?
                .into_iter()
                .map(|pages| {
                    pages
                        .map(|page| compress_page(page?, leaf.options.compression))
                        .collect()
                })
                .collect()
        };
        let pairs: Vec<(&ArrayRef, &Leaf)> = arrays.iter().zip(&self.leaves).collect();
        let order: Vec<usize> = (0..pairs.len()).collect();
        let mut columns = Vec::with_capacity(pairs.len());
        for c in
            crate::parallel::map_in_order(&pairs, &order, crate::parallel::cores(), |p| one(*p))
        {
            columns.extend(c?);
        }
        Ok(columns)
    }

    /// Writes the footer; returns the file's size and the sink.
    fn finish(mut self) -> PolarsResult<(u64, W)> {
        let size = self.file.end(self.metadata.take())?;
        Ok((size, self.file.into_inner()))
    }
}

/// Chunk `idx` of `s` as Arrow, as polars' `Series::to_arrow` gives it at the newest
/// compatibility level. A categorical column becomes a dictionary of the categories its
/// chunk uses, in order of first use, as polars makes it, but without its index set: polars
/// hashes every row's key to renumber it (~2 % of a run's CPU); the keys are small dense
/// numbers, so a table indexed by the key renumbers them instead.
fn chunk_to_arrow(s: &Series, idx: usize) -> PolarsResult<ArrayRef> {
    let DataType::Categorical(_, mapping) = s.dtype() else {
        return Ok(s.to_arrow(idx, CompatLevel::newest()));
    };
    if s.dtype().cat_physical()? != CategoricalPhysical::U32 {
        return Ok(s.to_arrow(idx, CompatLevel::newest()));
    }
    let physical = s.cat32()?.physical();
    let Some(keys) = physical
        .chunks()
        .get(idx)
        .and_then(|a| a.as_any().downcast_ref::<PrimitiveArray<u32>>())
    else {
        polars_bail!(ComputeError: "{}: no chunk {idx} of u32 keys", s.name());
    };
    let mut renumbered: Vec<u32> = vec![u32::MAX; mapping.num_cats_upper_bound()];
    let mut used: Vec<u32> = Vec::new();
    let mut renumber = |k: u32| -> PolarsResult<u32> {
        let Some(slot) = renumbered.get_mut(k as usize) else {
            polars_bail!(ComputeError: "category {k} beyond its mapping");
        };
        if *slot == u32::MAX {
            *slot = used.len() as u32;
            used.push(k);
        }
        Ok(*slot)
    };
    let values: Vec<u32> = match keys.validity() {
        None => keys
            .values()
            .iter()
            .map(|&k| renumber(k))
            .collect::<PolarsResult<_>>()?,
        Some(valid) => keys
            .values()
            .iter()
            .zip(valid.iter())
            .map(|(&k, v)| if v { renumber(k) } else { Ok(0) })
            .collect::<PolarsResult<_>>()?,
    };
    let mut dictionary = MutableBinaryViewArray::<str>::with_capacity(used.len());
    for &k in &used {
        let Some(text) = mapping.cat_to_str(k) else {
            polars_bail!(ComputeError: "category {k} has no text");
        };
        dictionary.push_value(text);
    }
    let dictionary: Utf8ViewArray = dictionary.into();
    // As polars' conversion: no validity when nothing is null.
    let validity = keys.validity().filter(|v| v.unset_bits() > 0).cloned();
    let keys = PrimitiveArray::<u32>::new(ArrowDataType::UInt32, values.into(), validity);
    let dtype = ArrowDataType::Dictionary(
        IntegerType::UInt32,
        Box::new(ArrowDataType::Utf8View),
        false,
    );
    Ok(DictionaryArray::<u32>::try_new(dtype, keys, dictionary.boxed())?.boxed())
}

/// A column's pages, each compressed when the file writer asks for it.
struct OnePageAtATime {
    pages: DynIter<'static, PolarsResult<Page>>,
    compression: CompressionOptions,
    current: Option<CompressedPage>,
}

impl FallibleStreamingIterator for OnePageAtATime {
    type Item = CompressedPage;
    type Error = PolarsError;

    fn advance(&mut self) -> PolarsResult<()> {
        // The previous page is dropped before the next is made.
        self.current = None;
        if let Some(page) = self.pages.next() {
            self.current = Some(compress_page(page?, self.compression)?);
        }
        Ok(())
    }

    fn get(&self) -> Option<&CompressedPage> {
        self.current.as_ref()
    }
}

thread_local! {
    /// This thread's zstd context and the level it was set to.
    static ZSTD: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
}

/// `input` compressed as one zstd frame at `level`, with this thread's context.
fn zstd_frame(input: &[u8], level: i32) -> std::io::Result<Vec<u8>> {
    ZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(l, _)| *l != level) {
            *slot = Some((level, zstd::bulk::Compressor::new(level)?));
        }
        match slot.as_mut() {
            Some((_, c)) => c.compress(input),
            None => Err(std::io::Error::other("no zstd context")),
        }
    })
}

/// One page compressed: zstd with this thread's context, anything else as polars does.
fn compress_page(page: Page, compression: CompressionOptions) -> PolarsResult<CompressedPage> {
    let CompressionOptions::Zstd(level) = compression else {
        return Ok(compress(page, Vec::new(), compression)?);
    };
    let level = level.map(|l| l.compression_level()).unwrap_or_default();
    let io = |e: std::io::Error| polars_err!(ComputeError: "compressing a Parquet page: {e}");
    Ok(match page {
        Page::Data(p) if matches!(p.header(), DataPageHeader::V1(_)) => {
            let Some(rows) = p.num_rows else {
                polars_bail!(ComputeError: "a data page without its row count");
            };
            let frame = zstd_frame(p.buffer(), level).map_err(io)?;
            CompressedPage::Data(CompressedDataPage::new(
                p.header().clone(),
                CowBuffer::Owned(frame),
                Compression::Zstd,
                p.buffer().len(),
                p.descriptor.clone(),
                rows,
            ))
        }
        Page::Dict(d) => {
            let frame = zstd_frame(&d.buffer, level).map_err(io)?;
            CompressedPage::Dict(CompressedDictPage::new(
                CowBuffer::Owned(frame),
                Compression::Zstd,
                d.buffer.len(),
                d.num_values,
                d.is_sorted,
            ))
        }
        other => compress(other, Vec::new(), compression)?,
    })
}

/// `df` as a Parquet file in memory, in row groups of `row_group_rows`.
pub fn to_bytes(
    df: &mut DataFrame,
    row_group_rows: usize,
    compression: ParquetCompression,
    metadata: Option<Vec<KeyValue>>,
    parallel: bool,
) -> PolarsResult<Vec<u8>> {
    let mut buf = Vec::new();
    let chunked = polars_core::frame::chunk_df_for_writing(df, row_group_rows)?;
    let mut writer = FrameWriter::new(
        &mut buf,
        chunked.schema(),
        compression,
        metadata,
        Layout::Output,
    )?;
    writer.write(&chunked, parallel)?;
    writer.finish()?;
    Ok(buf)
}

/// The Arrow schema embedded in a file (`ARROW:schema`, which Arrow readers take column
/// types from), with categorical columns declared as strings. Categorical columns are
/// written as they are held: their codes go straight into Parquet dictionary pages, as
/// the writer would encode the same column cast to strings after hashing every value
/// again (measured: casting back and re-hashing was about a sixth of a run's CPU). In
/// Parquet a dictionary-encoded string column is a string column whichever way it was
/// built; only this embedded schema would otherwise tell Arrow readers to make it a
/// dictionary (pandas category, R factor) instead of the shared schema's string.
pub fn string_schema(schema: &Schema) -> KeyValue {
    let as_strings: Schema = schema
        .iter()
        .map(|(name, dtype)| {
            let dtype = match dtype {
                DataType::Categorical(..) | DataType::Enum(..) => DataType::String,
                other => other.clone(),
            };
            (name.clone(), dtype)
        })
        .collect();
    polars_parquet::write::schema_to_metadata_key(&as_strings.to_arrow(CompatLevel::newest()))
}

/// Ingest's staged rows, written a batch at a time (each batch one row group): LZ4, no
/// statistics, categorical columns (codes) as dictionary pages of their text, read back
/// as strings ([`string_schema`]).
pub struct StagingWriter<W: Write>(FrameWriter<W>);

impl<W: Write> StagingWriter<W> {
    /// A staged file for batches of `schema`.
    pub fn new(sink: W, schema: &Schema) -> PolarsResult<Self> {
        Ok(StagingWriter(FrameWriter::new(
            sink,
            schema,
            ParquetCompression::Lz4Raw,
            Some(vec![string_schema(schema)]),
            Layout::Staging,
        )?))
    }

    /// Writes one batch (one chunk per column) as a row group.
    pub fn write(&mut self, batch: &DataFrame) -> PolarsResult<()> {
        self.0.write(batch, false)
    }

    /// Writes the footer; returns the file's size and the sink.
    pub fn finish(self) -> PolarsResult<(u64, W)> {
        self.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::metadata::ParquetMetaData;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    /// A file's Parquet metadata, read by arrow-rs's parquet crate.
    fn metadata(bytes: &[u8]) -> ParquetMetaData {
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, bytes).unwrap();
        SerializedFileReader::new(file).unwrap().metadata().clone()
    }

    fn polars_bytes(df: &mut DataFrame, row_group_rows: usize) -> Vec<u8> {
        let mut buf = Vec::new();
        ParquetWriter::new(&mut buf)
            .with_compression(crate::publish::parquet::compression())
            .with_row_group_size(Some(row_group_rows))
            .finish(df)
            .unwrap();
        buf
    }

    fn frame(rows: usize) -> DataFrame {
        let n = rows as i64;
        df!(
            "n" => (0..n).collect::<Vec<_>>(),
            "code" => (0..n).map(|i| ["A", "B", "C"][(i % 3) as usize]).collect::<Vec<_>>(),
            "text" => (0..n).map(|i| (i % 7 != 0).then(|| format!("row {i}"))).collect::<Vec<_>>(),
            "day" => (0..n).map(|i| (i % 40) as i32).collect::<Vec<_>>(),
        )
        .unwrap()
    }

    #[test]
    fn a_file_without_pseudonyms_has_the_bytes_polars_writes() {
        for (rows, group, parallel) in [(10, 4, false), (1000, 300, true), (0, 10, false)] {
            let mut a = frame(rows);
            let mut b = a.clone();
            let ours = to_bytes(
                &mut a,
                group,
                crate::publish::parquet::compression(),
                None,
                parallel,
            )
            .unwrap();
            assert!(
                ours == polars_bytes(&mut b, group),
                "{rows} rows in groups of {group} (parallel: {parallel})"
            );
        }
    }

    #[test]
    fn categorical_chunks_become_the_dictionaries_polars_makes_and_the_same_bytes() {
        // Categories made in another order than the rows use them, some unused, nulls,
        // and two chunks using different categories.
        let cat = crate::normalise::categorical();
        let part = |v: Vec<Option<&str>>| {
            Column::new("code".into(), v)
                .cast(&cat)
                .unwrap()
                .as_materialized_series()
                .clone()
        };
        let _ = part(vec![Some("zz unused"), Some("C"), Some("B")]);
        let mut s = part(vec![Some("B"), None, Some("A"), Some("B"), Some("C")]);
        s.append(&part(vec![None, None, Some("D"), Some("A")]))
            .unwrap();
        assert_eq!(s.n_chunks(), 2);
        for idx in 0..2 {
            let ours = chunk_to_arrow(&s, idx).unwrap();
            let theirs = s.to_arrow(idx, CompatLevel::newest());
            assert_eq!(ours.dtype(), theirs.dtype(), "chunk {idx}");
            assert_eq!(
                dict_keys_values(&ours),
                dict_keys_values(&theirs),
                "chunk {idx}"
            );
        }
        // A slice of a chunk with nulls (a month file's rows): the same keys, categories
        // and validity as polars'.
        let slice = s.slice(2, 3);
        let ours = chunk_to_arrow(&slice, 0).unwrap();
        let theirs = slice.to_arrow(0, CompatLevel::newest());
        assert_eq!(ours.validity().is_some(), theirs.validity().is_some());
        assert_eq!(dict_keys_values(&ours), dict_keys_values(&theirs));
        let first = dict_keys_values(&chunk_to_arrow(&s, 0).unwrap());
        assert_eq!(first.1, ["B", "A", "C"], "categories in order of first use");
        // Written in two row groups: polars' bytes.
        let mut a = DataFrame::new(s.len(), vec![s.into_column()]).unwrap();
        let mut b = a.clone();
        let ours = to_bytes(
            &mut a,
            5,
            crate::publish::parquet::compression(),
            None,
            false,
        )
        .unwrap();
        assert!(ours == polars_bytes(&mut b, 5));
    }

    fn dict_keys_values(a: &ArrayRef) -> (Vec<Option<u32>>, Vec<String>) {
        let d = a.as_any().downcast_ref::<DictionaryArray<u32>>().unwrap();
        let values = d.values().as_any().downcast_ref::<Utf8ViewArray>().unwrap();
        (
            d.keys().iter().map(|k| k.copied()).collect(),
            values.values_iter().map(str::to_string).collect(),
        )
    }

    /// Regression: pseudonym columns were written without min/max statistics (a null
    /// count only), and DuckDB 2.0 then skipped every row group on a filter or a join on
    /// `person_id`: joining spells to attendances gave no rows. They now carry min/max
    /// like every other column.
    #[test]
    fn pseudonym_columns_are_plain_with_min_max_and_read_back_the_same() {
        let hex = |i: usize| format!("{:064X}", (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        // Few distinct values: polars' writer would make both of these dictionaries.
        let mut df = df!(
            "person_id" => (0..300).map(|i| (i % 5 != 0).then(|| hex(i % 4))).collect::<Vec<_>>(),
            "la_person_id" => (0..300).map(|i| hex(i % 3)).collect::<Vec<_>>(),
            "code" => (0..300).map(|i| ["A", "B"][i % 2]).collect::<Vec<_>>(),
        )
        .unwrap();
        let expected = df.clone();
        let bytes = to_bytes(
            &mut df,
            100,
            crate::publish::parquet::compression(),
            None,
            false,
        )
        .unwrap();
        let meta = metadata(&bytes);
        assert_eq!(meta.num_row_groups(), 3);
        for (k, g) in meta.row_groups().iter().enumerate() {
            let rows = expected.slice(k as i64 * 100, 100);
            for c in g.columns() {
                let name = c.column_path().string();
                let stats = c.statistics().unwrap();
                let dictionary = c.dictionary_page_offset().is_some();
                let values: Vec<&str> = rows
                    .column(&name)
                    .unwrap()
                    .str()
                    .unwrap()
                    .iter()
                    .flatten()
                    .collect();
                let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8(b.to_vec()).unwrap());
                assert_eq!(dictionary, name == "code", "{name}");
                assert_eq!(
                    text(stats.min_bytes_opt()).as_deref(),
                    values.iter().min().copied(),
                    "{name}"
                );
                assert_eq!(
                    text(stats.max_bytes_opt()).as_deref(),
                    values.iter().max().copied(),
                    "{name}"
                );
                assert_eq!(
                    stats.null_count_opt(),
                    Some(100 - values.len() as u64),
                    "{name}"
                );
            }
        }
        let back = ParquetReader::new(std::io::Cursor::new(bytes))
            .finish()
            .unwrap();
        assert!(back.equals_missing(&expected));
    }

    #[test]
    fn staged_codes_read_back_as_their_text_a_row_group_per_batch_without_statistics() {
        let hex = |i: usize| format!("{:064X}", (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let batch = |from: usize| {
            df!(
                "person_id" => (from..from + 200).map(|i| hex(i % 4)).collect::<Vec<_>>(),
                "code" => (from..from + 200).map(|i| (i % 7 != 0).then_some(["A", "B"][i % 2])).collect::<Vec<_>>(),
            )
            .unwrap()
        };
        let held = |df: DataFrame| {
            df.lazy()
                .with_column(col("code").cast(crate::normalise::categorical()))
                .collect()
                .unwrap()
        };
        let (a, b) = (batch(0), batch(200));
        let mut writer = StagingWriter::new(Vec::new(), held(a.clone()).schema()).unwrap();
        writer.write(&held(a.clone())).unwrap();
        writer.write(&held(b.clone())).unwrap();
        let (size, bytes) = writer.finish().unwrap();
        assert_eq!(size, bytes.len() as u64);

        let back = ParquetReader::new(std::io::Cursor::new(bytes.clone()))
            .finish()
            .unwrap();
        let mut expected = a;
        expected.vstack_mut_owned(b).unwrap();
        assert_eq!(back.column("code").unwrap().dtype(), &DataType::String);
        assert!(back.equals_missing(&expected));

        let meta = metadata(&bytes);
        assert_eq!(meta.num_row_groups(), 2);
        for g in meta.row_groups() {
            for c in g.columns() {
                let name = c.column_path().string();
                // Repeated pseudonyms keep their dictionary in staging (unlike outputs).
                assert!(c.dictionary_page_offset().is_some(), "{name}");
                assert!(
                    c.statistics().is_none_or(|s| s.min_bytes_opt().is_none()),
                    "{name}"
                );
                assert_eq!(c.compression(), parquet::basic::Compression::LZ4_RAW);
            }
        }
    }
}
