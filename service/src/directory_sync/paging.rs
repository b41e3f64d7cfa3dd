//! Directory Sync's list paging: `limit` (1 to 100, 10 by default), `order` (`desc` unless
//! asked otherwise, which the official SDKs always send), and the cursors `after` (the page
//! that follows this object in the order) and `before` (the page that precedes it). Every
//! list answers `list_metadata.before` / `.after`: the cursors of the neighbouring pages,
//! `null` where there is none. Cursors are object ids.

/// The default page size.
pub const DEFAULT_LIMIT: i64 = 10;
/// The largest page.
pub const MAX_LIMIT: i64 = 100;

/// The order of a list, by object id (ids grow with time, so this is creation order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    Asc,
    #[default]
    Desc,
}

impl Order {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "asc" => Some(Order::Asc),
            "desc" => Some(Order::Desc),
            _ => None,
        }
    }
}

/// A page asked for, before the cursors are turned into the store's ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<Cursor> {
    pub limit: i64,
    pub order: Order,
    pub cursor: Option<Cursor>,
}

/// Which way from the cursor a page lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor<Id> {
    After(Id),
    Before(Id),
}

impl<Id> PageRequest<Cursor<Id>> {
    /// How the store reads the page: the id to read beyond, whether in descending id
    /// order, and how many (one more than the page, to learn whether more follow). A
    /// `before` page is read backwards from its cursor and turned around afterwards.
    pub fn read_plan(&self) -> ReadPlan<&Id> {
        let ascending = self.order == Order::Asc;
        let (from, descending, backwards) = match &self.cursor {
            None => (None, !ascending, false),
            Some(Cursor::After(id)) => (Some(id), !ascending, false),
            Some(Cursor::Before(id)) => (Some(id), ascending, true),
        };
        ReadPlan { from, descending, take: self.limit + 1, backwards }
    }
}

/// How to read one page from the store (see [`PageRequest::read_plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPlan<Id> {
    pub from: Option<Id>,
    pub descending: bool,
    pub take: i64,
    /// The rows come in the reverse of the asked order.
    pub backwards: bool,
}

/// One page in the asked order, with the cursors of its neighbours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub data: Vec<T>,
    /// The cursor of the page before this one.
    pub before: Option<String>,
    /// The cursor of the page after this one.
    pub after: Option<String>,
}

/// Turns what the store read by `plan` into the page `request` asked for; `id` names an
/// item as a cursor.
pub fn page_of<T, Id>(request: &PageRequest<Cursor<Id>>, mut rows: Vec<T>, id: impl Fn(&T) -> String) -> Page<T> {
    let plan = request.read_plan();
    let limit = usize::try_from(request.limit).unwrap_or(0);
    let more_beyond = rows.len() > limit;
    rows.truncate(limit);
    if plan.backwards {
        rows.reverse();
    }
    let came_from_a_cursor = request.cursor.is_some();
    let (has_before, has_after) =
        if plan.backwards { (more_beyond, came_from_a_cursor) } else { (came_from_a_cursor, more_beyond) };
    let before = rows.first().filter(|_| has_before).map(&id);
    let after = rows.last().filter(|_| has_after).map(&id);
    Page { data: rows, before, after }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages over the numbers 1..=n as the store would read them.
    fn read(n: u32, request: &PageRequest<Cursor<u32>>) -> Page<u32> {
        let plan = request.read_plan();
        let mut all: Vec<u32> = (1..=n).collect();
        if plan.descending {
            all.reverse();
        }
        let rows: Vec<u32> = all
            .into_iter()
            .filter(|x| match plan.from {
                None => true,
                Some(from) if plan.descending => x < from,
                Some(from) => x > from,
            })
            .take(usize::try_from(plan.take).unwrap())
            .collect();
        page_of(request, rows, |x| x.to_string())
    }

    fn request(limit: i64, order: Order, cursor: Option<Cursor<u32>>) -> PageRequest<Cursor<u32>> {
        PageRequest { limit, order, cursor }
    }

    #[test]
    fn walking_after_cursors_visits_every_item_once_in_either_order() {
        for order in [Order::Asc, Order::Desc] {
            let mut seen = Vec::new();
            let mut cursor = None;
            loop {
                let page = read(23, &request(5, order, cursor.map(Cursor::After)));
                seen.extend(page.data.iter().copied());
                match page.after {
                    Some(after) => cursor = Some(after.parse().unwrap()),
                    None => break,
                }
            }
            let mut expected: Vec<u32> = (1..=23).collect();
            if order == Order::Desc {
                expected.reverse();
            }
            assert_eq!(seen, expected, "{order:?}");
        }
    }

    #[test]
    fn the_first_page_has_no_before_and_the_last_no_after() {
        let first = read(12, &request(5, Order::Desc, None));
        assert_eq!((first.data, first.before, first.after), (vec![12, 11, 10, 9, 8], None, Some("8".to_owned())));
        let last = read(12, &request(5, Order::Desc, Some(Cursor::After(3))));
        assert_eq!((last.data, last.before, last.after), (vec![2, 1], Some("2".to_owned()), None));
        let exact = read(5, &request(5, Order::Asc, None));
        assert_eq!((exact.before, exact.after), (None, None), "a full single page has no neighbours");
    }

    #[test]
    fn a_before_cursor_reads_the_page_preceding_it_in_the_asked_order() {
        let page = read(20, &request(3, Order::Asc, Some(Cursor::Before(10))));
        assert_eq!((page.data, page.before, page.after), (vec![7, 8, 9], Some("7".to_owned()), Some("9".to_owned())));
        let page = read(20, &request(3, Order::Desc, Some(Cursor::Before(10))));
        assert_eq!(page.data, vec![13, 12, 11]);
        let start = read(20, &request(3, Order::Asc, Some(Cursor::Before(3))));
        assert_eq!((start.data, start.before), (vec![1, 2], None), "nothing precedes the first items");
    }

    #[test]
    fn orders_parse_from_their_names_only() {
        assert_eq!(Order::parse("asc"), Some(Order::Asc));
        assert_eq!(Order::parse("desc"), Some(Order::Desc));
        assert_eq!(Order::parse("DESC"), None);
        assert_eq!(Order::default(), Order::Desc);
    }
}
