//! `natter-search-bench`: the message search index at scale. Indexes `--messages` generated messages
//! across `--rooms` rooms into a fresh PostgreSQL database and a fresh SQLite file, through
//! `natter_db::search` as a backfill does (pages of `--batch`), then runs `--queries` searches as a
//! member of `--member-rooms` rooms. Prints, per backend: indexing throughput, index size per
//! message, and query latency (p50/p99/max) for each kind of query.
//!
//! The text: about 40 % of words from a small core of everyday English and Korean chat words (each
//! in several percent of all messages: the worst case for a search), the rest from a long tail of
//! `--vocabulary` made-up English-like and Korean words drawn by Zipf's law, as words are in real
//! text. Queries: a core word, a word drawn from the same law (what people typically look for), a
//! core word and a tail word, a quoted two-word phrase, and a filter alone.
//!
//!   natter-search-bench --messages 1000000 --rooms 1000 --member-rooms 50

use std::time::{Duration, Instant};

use clap::Parser;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use hdrhistogram::Histogram;
use natter_db::Db;
use natter_db::search::{self, Filters, Indexed};

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    #[arg(long, default_value_t = 1_000)]
    rooms: i64,
    /// Rooms the searching member belongs to.
    #[arg(long, default_value_t = 50)]
    member_rooms: usize,
    /// Searches of each kind.
    #[arg(long, default_value_t = 300)]
    queries: usize,
    /// Messages per transaction while indexing (the indexer writes one per record; batching here only
    /// speeds up the set-up of the data, and is what a backfill does).
    #[arg(long, default_value_t = 1_000)]
    batch: u64,
    /// Words in the long tail of the vocabulary.
    #[arg(long, default_value_t = 20_000)]
    vocabulary: usize,
    /// `postgres`, `sqlite` or `both`.
    #[arg(long, default_value = "both")]
    backend: String,
}

const ENGLISH: &[&str] = &[
    "lunch", "meeting", "tomorrow", "deploy", "release", "coffee", "review", "bug", "fix", "design",
    "client", "server", "weekend", "plan", "team", "call", "report", "budget", "today", "idea", "question",
    "answer", "thanks", "please", "update", "issue", "merge", "branch", "test", "build", "docs", "search",
    "index", "chat",
];
const KOREAN: &[&str] = &[
    "회의는",
    "회의에서",
    "점심",
    "내일",
    "오늘",
    "배포",
    "리뷰",
    "버그를",
    "수정했어요",
    "디자인",
    "서버가",
    "주말에",
    "계획",
    "팀장님",
    "전화",
    "보고서",
    "예산",
    "질문이",
    "감사합니다",
    "업데이트",
    "검색",
    "채팅방",
];

/// A small deterministic generator (splitmix64): the same data every run.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The vocabulary: the core words and a Zipf-distributed tail.
struct Words {
    /// Cumulative weights of the tail's ranks (1/rank).
    cumulative: Vec<f64>,
}

impl Words {
    fn new(tail: usize) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=tail.max(1))
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self { cumulative }
    }

    /// A core word, as written in a message.
    fn core(seeded: &mut Seeded) -> String {
        if seeded.below(2) == 0 {
            ENGLISH[seeded.below(ENGLISH.len() as u64) as usize].to_owned()
        } else {
            KOREAN[seeded.below(KOREAN.len() as u64) as usize].to_owned()
        }
    }

    /// A core word as searched: English, or the stem of a Korean word (its first two syllables).
    fn core_query(seeded: &mut Seeded) -> String {
        let word = Self::core(seeded);
        if word.is_ascii() { word } else { word.chars().take(2).collect() }
    }

    /// A tail word, drawn by Zipf's law.
    fn tail(&self, seeded: &mut Seeded) -> String {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let rank = self.cumulative.partition_point(|&c| c < seeded.unit() * total);
        made_up(rank)
    }

    fn text(&self, seeded: &mut Seeded) -> String {
        let words = 4 + seeded.below(12);
        (0..words)
            .map(|_| if seeded.below(5) < 2 { Self::core(seeded) } else { self.tail(seeded) })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The made-up word of a tail rank: English-like syllables for even ranks, two or three Hangul
/// syllables for odd ones.
fn made_up(rank: usize) -> String {
    const CONSONANTS: &[u8] = b"bcdfghklmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    let n = rank / 2;
    if rank.is_multiple_of(2) {
        let syllable = |k: usize| {
            let k = k % 80;
            format!("{}{}", CONSONANTS[k / 5] as char, VOWELS[k % 5] as char)
        };
        format!("{}{}{}", syllable(n), syllable(n / 80), syllable(n / 6400 + 1))
    } else {
        let syllables = 2 + n % 2;
        (0..syllables)
            .map(|i| {
                let code = 0xAC00 + ((n * 7919 + i * 104_729) % 11_172) as u32;
                char::from_u32(code).unwrap_or('가')
            })
            .collect()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if matches!(args.backend.as_str(), "postgres" | "both") {
        let url = natter_test_support::fresh_postgres_database().await;
        Db::migrate_postgres(&url).await?;
        let db = Db::connect_postgres(&url, 4)?;
        let size_sql = "SELECT pg_total_relation_size('message_search') AS bytes";
        run("postgres", &db, &args, async || -> anyhow::Result<i64> {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            Ok(diesel::sql_query(size_sql).get_result::<Bytes>(&mut conn).await?.bytes)
        })
        .await?;
        drop(db);
        let name = url.rsplit('/').next().unwrap_or_default().to_owned();
        let mut admin = AsyncPgConnection::establish(&natter_test_support::postgres_admin_url()).await?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await?;
    }
    if matches!(args.backend.as_str(), "sqlite" | "both") {
        let path = std::env::temp_dir().join(format!("natter-search-bench-{}.db", std::process::id()));
        let db = Db::open_sqlite(path.to_str().expect("a UTF-8 path"))?;
        let file = path.clone();
        run("sqlite", &db, &args, async || -> anyhow::Result<i64> {
            Ok(std::fs::metadata(&file).map(|m| m.len() as i64).unwrap_or(0))
        })
        .await?;
        drop(db);
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}

/// Makes one search: its words and filters.
type MakeQuery<'a> = dyn Fn(&mut Seeded) -> (String, Filters) + 'a;

#[derive(diesel::QueryableByName)]
struct Bytes {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
}

async fn run(
    backend: &str,
    db: &Db,
    args: &Args,
    size: impl AsyncFnOnce() -> anyhow::Result<i64>,
) -> anyhow::Result<()> {
    let mut seeded = Seeded(42);
    let words = Words::new(args.vocabulary);
    let started = Instant::now();
    let mut done = 0;
    while done < args.messages {
        let mut conn = db.conn().await?;
        let batch: Vec<(String, i64, i64, String)> = (done..(done + args.batch).min(args.messages))
            .map(|n| {
                (
                    format!("m{n:09}"),
                    seeded.below(args.rooms as u64) as i64 + 1,
                    n as i64,
                    words.text(&mut seeded),
                )
            })
            .collect();
        let messages: Vec<Indexed> = batch
            .iter()
            .map(|(id, room, n, text)| Indexed {
                message_id: id,
                room_id: *room,
                sender_id: n % 500,
                position: *n,
                sent_at_ms: 1_790_000_000_000 + n * 1000,
                has_file: n % 50 == 0,
                text,
            })
            .collect();
        search::index_all(&mut conn, &messages).await?;
        done += batch.len() as u64;
    }
    let took = started.elapsed();
    let bytes = size().await?;
    println!(
        "{backend}: indexed {} messages over {} rooms in {:.1} s = {:.0} msg/s; index {:.0} bytes per message ({:.1} MiB)",
        args.messages,
        args.rooms,
        took.as_secs_f64(),
        args.messages as f64 / took.as_secs_f64(),
        bytes as f64 / args.messages as f64,
        bytes as f64 / 1048576.0
    );
    let member_rooms: Vec<i64> =
        (0..args.member_rooms).map(|_| seeded.below(args.rooms as u64) as i64 + 1).collect();
    let kinds: [(&str, Box<MakeQuery>); 5] = [
        ("one core word", Box::new(|s: &mut Seeded| (Words::core_query(s), Filters::default()))),
        ("one word by Zipf", Box::new(|s: &mut Seeded| (words.tail(s), Filters::default()))),
        (
            "core word + Zipf word",
            Box::new(|s: &mut Seeded| {
                (format!("{} {}", Words::core_query(s), words.tail(s)), Filters::default())
            }),
        ),
        (
            "\"two core words\"",
            Box::new(|s: &mut Seeded| {
                (format!("\"{} {}\"", Words::core(s), Words::core(s)), Filters::default())
            }),
        ),
        (
            "from:someone (no words)",
            Box::new(|s: &mut Seeded| {
                (String::new(), Filters { sender_id: Some(s.below(500) as i64), ..Filters::default() })
            }),
        ),
    ];
    for (kind, make) in &kinds {
        let mut latency = Histogram::<u64>::new(3)?;
        let mut hits = 0;
        for _ in 0..args.queries {
            let (query, filters) = make(&mut seeded);
            let asked = Instant::now();
            let found = search::find(&mut db.conn().await?, &member_rooms, &query, &filters, 21, 0).await?;
            latency.record(asked.elapsed().as_micros() as u64)?;
            hits += found.len();
        }
        let ms = |q: f64| Duration::from_micros(latency.value_at_quantile(q)).as_secs_f64() * 1000.0;
        println!(
            "{backend}: {kind:<26} as a member of {} rooms: p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  ({:.1} hits a query, first page of 21)",
            args.member_rooms,
            ms(0.5),
            ms(0.99),
            latency.max() as f64 / 1000.0,
            hits as f64 / args.queries as f64
        );
    }
    Ok(())
}
