//! Deterministic, realistic-looking fake payloads (users, items, products, dashboards).
//! Everything is derived from the id by hashing; images are inline SVG data URIs.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Edsger",
    "Frances",
    "Guido",
    "Hedy",
    "Tim",
    "Katherine",
    "Donald",
    "Sophie",
    "John",
    "Annie",
    "Bjarne",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Perlman",
    "Dijkstra",
    "Allen",
    "Rossum",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Knuth",
    "Wilson",
    "McCarthy",
    "Easley",
    "Stroustrup",
];
const ROLES: &[&str] = &["admin", "editor", "viewer", "owner", "billing", "developer"];
const COLORS: &[&str] = &[
    "#3b82f6", "#ef4444", "#10b981", "#f59e0b", "#8b5cf6", "#ec4899", "#14b8a6", "#64748b",
];
const CATEGORIES: &[&str] = &[
    "kitchen", "outdoor", "office", "audio", "garden", "toys", "books", "fitness",
];
const ADJECTIVES: &[&str] = &[
    "Compact",
    "Deluxe",
    "Ultralight",
    "Classic",
    "Smart",
    "Rugged",
    "Eco",
    "Pro",
];
const NOUNS: &[&str] = &[
    "Kettle",
    "Backpack",
    "Desk Lamp",
    "Headphones",
    "Planter",
    "Drone",
    "Notebook",
    "Yoga Mat",
];
const BRANDS: &[&str] = &[
    "Northwind",
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark",
    "Wayne",
];

/// Characters to escape inside an SVG data URI.
const SVG_ESCAPE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>');

/// FNV-1a 64-bit hash with a splitmix64 finalizer (stable across runs and platforms).
pub fn hash(s: &str) -> u64 {
    mix(s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    }))
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn pick<'a>(list: &[&'a str], h: u64, salt: u64) -> &'a str {
    list[(mix(h ^ salt) % list.len() as u64) as usize]
}

fn money(h: u64) -> f64 {
    ((h % 19_900) + 100) as f64 / 100.0
}

/// Deterministic ISO timestamp in March 2025.
fn timestamp(h: u64) -> String {
    format!(
        "2025-03-{:02}T{:02}:{:02}:{:02}Z",
        1 + h % 28,
        (h >> 8) % 24,
        (h >> 16) % 60,
        (h >> 24) % 60
    )
}

/// Inline SVG image with a colored background and a short label.
pub fn svg_data_uri(label: &str, color: &str, w: u32, h: u32) -> String {
    let svg = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{w}' height='{h}' viewBox='0 0 {w} {h}'>\
<rect width='100%' height='100%' rx='8' fill='{color}'/>\
<text x='50%' y='55%' font-family='sans-serif' font-size='{fs}' fill='white' text-anchor='middle'>{label}</text></svg>",
        fs = h / 3
    );
    format!(
        "data:image/svg+xml,{}",
        utf8_percent_encode(&svg, SVG_ESCAPE)
    )
}

/// `id` as given, or as a JSON number when `numeric` and it parses.
pub fn id_value(id: &str, numeric: bool) -> Value {
    match id.parse::<i64>() {
        Ok(n) if numeric => json!(n),
        _ => json!(id),
    }
}

pub fn item(id: &str, numeric: bool) -> Value {
    let h = hash(id);
    json!({
        "id": id_value(id, numeric),
        "name": format!("Item {id}"),
        "price": money(h),
        "currency": "USD",
        "sku": format!("SKU-{:06}", h % 1_000_000),
        "category": pick(CATEGORIES, h, 1),
        "inStock": h % 10 < 8,
        "rating": ((h >> 5) % 41) as f64 / 10.0 + 1.0,
    })
}

pub fn user(id: &str, numeric: bool) -> Value {
    let h = hash(id);
    let first = pick(FIRST, h, 1);
    let last = pick(LAST, h, 2);
    let initials = format!("{}{}", &first[..1], &last[..1]);
    json!({
        "id": id_value(id, numeric),
        "name": format!("{first} {last}"),
        "email": format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()),
        "avatar": svg_data_uri(&initials, pick(COLORS, h, 3), 64, 64),
        "role": pick(ROLES, h, 4),
    })
}

/// The signed-in user for the dashboard demo.
pub fn current_user() -> Value {
    let mut u = user("1", true);
    let extra = json!({
        "plan": "team",
        "company": "Northwind Traders",
        "joinedAt": "2023-06-14T09:30:00Z",
        "lastLoginAt": "2025-03-18T08:12:44Z",
        "preferences": { "theme": "dark", "language": "en-US", "timezone": "Europe/Berlin", "emailDigest": "weekly" },
        "stats": { "projects": 12, "openTasks": 7, "teammates": 9, "storageUsedMb": 1843 },
    });
    if let (Some(u), Some(extra)) = (u.as_object_mut(), extra.as_object()) {
        u.extend(extra.clone());
    }
    u
}

pub fn notifications() -> Value {
    const KINDS: &[(&str, &str, &str)] = &[
        ("mention", "mentioned you in", "Q3 roadmap"),
        ("comment", "commented on", "Checkout redesign"),
        ("assign", "assigned you", "Fix flaky login test"),
        (
            "review",
            "requested your review on",
            "PR #482: batch loader",
        ),
        ("deploy", "deployed", "api-gateway v2.14.0"),
        ("invite", "invited you to", "Design System workspace"),
        ("alert", "raised an alert on", "p95 latency > 800 ms"),
        ("comment", "replied in", "Pricing page copy"),
    ];
    let items: Vec<Value> = KINDS
        .iter()
        .enumerate()
        .map(|(i, (kind, verb, target))| {
            let actor = user(&(i + 2).to_string(), true);
            json!({
                "id": format!("n-{}", 1000 + i),
                "kind": kind,
                "title": format!("{} {} {}", actor["name"].as_str().unwrap_or("Someone"), verb, target),
                "read": i >= 3,
                "createdAt": timestamp(hash(&format!("notif{i}"))),
                "actor": { "id": actor["id"], "name": actor["name"], "avatar": actor["avatar"] },
            })
        })
        .collect();
    json!({ "unread": 3, "items": items })
}

pub fn analytics() -> Value {
    let days: Vec<Value> = (0..7)
        .map(|d| {
            let h = hash(&format!("day{d}"));
            json!({ "date": format!("2025-03-{:02}", 12 + d), "visitors": 800 + h % 700, "pageViews": 2400 + h % 2100, "signups": 10 + h % 40 })
        })
        .collect();
    json!({
        "range": "7d",
        "totals": { "visitors": 8123, "pageViews": 24871, "signups": 187, "bounceRate": 0.412, "avgSessionSec": 143 },
        "daily": days,
        "topPages": [
            { "path": "/", "views": 9120 }, { "path": "/pricing", "views": 4210 },
            { "path": "/docs/getting-started", "views": 3380 }, { "path": "/blog/batching-requests", "views": 1975 },
            { "path": "/signup", "views": 1402 }
        ],
        "sources": [
            { "name": "Direct", "share": 0.38 }, { "name": "Search", "share": 0.31 },
            { "name": "Social", "share": 0.17 }, { "name": "Referral", "share": 0.14 }
        ],
    })
}

fn product_name(h: u64) -> String {
    format!(
        "{} {} {}",
        pick(BRANDS, h, 1),
        pick(ADJECTIVES, h, 2),
        pick(NOUNS, h, 3)
    )
}

pub fn product_summary(id: &str) -> Value {
    let h = hash(&format!("product:{id}"));
    let name = product_name(h);
    json!({
        "id": id,
        "name": name,
        "price": money(h),
        "currency": "USD",
        "stock": inventory(id)["totalStock"],
        "rating": ((h >> 7) % 21) as f64 / 10.0 + 3.0,
        "image": svg_data_uri(pick(NOUNS, h, 3), pick(COLORS, h, 4), 160, 120),
    })
}

pub fn product(id: &str) -> Value {
    let h = hash(&format!("product:{id}"));
    let mut p = product_summary(id);
    let name = p["name"].as_str().unwrap_or_default().to_string();
    let extra = json!({
        "brand": pick(BRANDS, h, 1),
        "category": pick(CATEGORIES, h, 5),
        "reviewCount": 5 + h % 400,
        "description": format!(
            "The {name} is built for everyday use: durable materials, a two-year warranty and free returns \
    within 30 days. Ships in recyclable packaging."
        ),
        "images": [
            svg_data_uri("front", pick(COLORS, h, 6), 320, 240),
            svg_data_uri("side", pick(COLORS, h, 7), 320, 240),
        ],
        "specs": { "weightGrams": 150 + h % 2000, "color": pick(&["black", "white", "sage", "navy"], h, 8), "warrantyYears": 2 },
        "tags": [pick(CATEGORIES, h, 5), "bestseller", "free-shipping"],
    });
    if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
        p.extend(extra.clone());
    }
    p
}

pub fn reviews(id: &str) -> Value {
    const TEXTS: &[&str] = &[
        "Exactly as described, arrived two days early.",
        "Solid build quality. The finish scratches a little.",
        "Great value for the price, would buy again.",
        "Works fine but the manual is confusing.",
        "My second one; the first lasted four years.",
    ];
    let reviews: Vec<Value> = (0..5)
        .map(|i| {
            let h = hash(&format!("review:{id}:{i}"));
            let author = user(&format!("r{}", h % 50), false);
            json!({
                "id": format!("rv-{id}-{i}"),
                "rating": 3 + h % 3,
                "title": TEXTS[i].split(',').next().unwrap_or(TEXTS[i]),
                "body": TEXTS[i],
                "author": author["name"],
                "createdAt": timestamp(h),
                "helpful": h % 30,
            })
        })
        .collect();
    json!({ "productId": id, "average": 4.2, "count": reviews.len(), "reviews": reviews })
}

pub fn recommendations(id: &str) -> Value {
    let h = hash(&format!("reco:{id}"));
    let items: Vec<Value> = (0..6)
        .map(|i| product_summary(&(100 + (h >> (i * 4)) % 900).to_string()))
        .collect();
    json!({ "productId": id, "reason": "Customers also bought", "items": items })
}

pub fn inventory(id: &str) -> Value {
    let h = hash(&format!("inv:{id}"));
    let warehouses: Vec<Value> = [("BER-1", "Berlin"), ("LYS-2", "Lyon"), ("RTM-1", "Rotterdam"), ("WAW-3", "Warsaw")]
        .iter()
        .enumerate()
        .map(|(i, (code, city))| {
            let x = h >> (i * 8);
            json!({ "code": code, "city": city, "stock": x % 40, "reserved": (x >> 4) % 5, "leadTimeDays": 1 + (x >> 6) % 4 })
        })
        .collect();
    let total: u64 = warehouses.iter().filter_map(|w| w["stock"].as_u64()).sum();
    json!({
        "productId": id,
        "sku": format!("SKU-{:06}", h % 1_000_000),
        "warehouses": warehouses,
        "totalStock": total,
        "status": if total == 0 { "out_of_stock" } else if total < 20 { "low_stock" } else { "in_stock" },
        "updatedAt": timestamp(h),
        "restockDate": if total < 20 { Value::String(format!("2025-04-{:02}", 1 + h % 28)) } else { Value::Null },
    })
}
