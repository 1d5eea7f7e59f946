//! Issue 14, items 1–4, as received by a real SMTP server on loopback: a
//! change notice says who replaces whom and reaches the colleague beside
//! the new person; cover outcomes reach the institution and the person who
//! accepted; reminders never precede or replace a late announcement; every
//! e-mail gives the coordinators' contact and the person's feed, and its
//! calendar files carry ORGANIZER and Touban's PRODID.

#[allow(dead_code)]
mod common;

use std::time::Duration;

use common::harness::{Sink, free_port};
use common::*;
use icalendar::Component;
use mail_parser::{Message, MessageParser, MimeHeaders};
use touban_domain::{Assignment, Month, NewRota, Role, StaffId};
use touban_store::{MessageKind, MessageState};

fn to_of(m: &Message<'_>) -> String {
    m.to()
        .unwrap()
        .first()
        .unwrap()
        .address()
        .unwrap()
        .to_string()
}

/// The footer every message ends with.
fn assert_footer(text: &str, staff: bool) {
    assert!(
        text.contains("renkei@shimoina-south.example.jp") && text.contains("0260-00-0000"),
        "no coordinator contact:\n{text}"
    );
    assert_eq!(
        text.contains("https://touban.example.jp/api/v1/feeds/fd"),
        staff,
        "feed link (expected: {staff}):\n{text}"
    );
}

fn assert_itip(part: &mail_parser::MessagePart<'_>) {
    // Unfolded (RFC 5545 folds long lines at 75 octets).
    let raw = std::str::from_utf8(part.contents())
        .unwrap()
        .replace("\r\n ", "")
        .replace("\n ", "");
    assert!(raw.contains("PRODID:-//Touban//Touban "), "{raw}");
    assert!(!raw.contains("ICALENDAR-RS"), "{raw}");
    assert!(
        raw.contains("ORGANIZER;CN=") && raw.contains(":mailto:renkei@shimoina-south.example.jp"),
        "{raw}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_notice_names_who_replaces_whom_and_tells_the_colleague() {
    let e = env().await;
    let rota = demo_rota(&e).await;
    let region = e.net.region.id.clone();
    e.store.publish_rota(&region, jan(), 1, "c").await.unwrap();
    let sink = Sink::start(free_port(), &[]);
    let (smtp, cfg) = configs(sink.port);
    let w = worker(&e, smtp, cfg).await;
    drain(e.store.as_ref(), &w, Duration::from_secs(60)).await;
    let first = sink.messages();
    for raw in &first {
        let m = MessageParser::default().parse(raw).unwrap();
        assert_footer(&m.body_text(0).unwrap(), true);
        assert_itip(m.attachments().next().unwrap());
    }

    // A shift with two people: its primary A gives it to B, who has no
    // duty that day; C, the backup, stays.
    let shift = rota
        .assignments
        .iter()
        .map(|a| &a.shift)
        .find(|k| rota.assignments.iter().filter(|a| &a.shift == *k).count() == 2)
        .expect("a shift with a primary and a backup")
        .clone();
    let on: Vec<&Assignment> = rota
        .assignments
        .iter()
        .filter(|a| a.shift == shift)
        .collect();
    let a = on
        .iter()
        .find(|x| x.role == Role::Primary)
        .unwrap()
        .staff
        .clone();
    let c = on
        .iter()
        .find(|x| x.role == Role::Backup)
        .unwrap()
        .staff
        .clone();
    let prof = e.net.staff_member(&a).unwrap().profession;
    let b = e
        .net
        .staff
        .iter()
        .find(|p| {
            p.profession == prof
                && p.phone.is_some()
                && !rota
                    .assignments
                    .iter()
                    .any(|x| x.staff == p.id && x.shift.date == shift.date)
        })
        .unwrap()
        .id
        .clone();
    let mut v2 = rota.assignments.clone();
    for x in v2.iter_mut().filter(|x| x.shift == shift && x.staff == a) {
        x.staff = b.clone();
    }
    save_version(&e, Some(1), v2).await;
    e.store.publish_rota(&region, jan(), 2, "c").await.unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(60)).await;
    let mails = sink.messages();
    let fresh: Vec<Message<'_>> = mails[first.len()..]
        .iter()
        .map(|r| MessageParser::default().parse(r).unwrap())
        .collect();
    let person = |id: &StaffId| e.net.staff_member(id).unwrap();
    let mail_of = |id: &StaffId| {
        fresh
            .iter()
            .find(|m| to_of(m) == person(id).email.to_string())
            .unwrap_or_else(|| panic!("no change notice to {id}"))
    };
    assert_eq!(fresh.len(), 3, "A, B and the colleague C");
    let (pa, pb, pc) = (person(&a), person(&b), person(&c));
    let b_phone = pb.phone.as_ref().unwrap().to_string();

    // A: the duty is gone, and B holds it now, with B's phone.
    let ta = mail_of(&a).body_text(0).unwrap();
    assert!(ta.contains("あなたの当番ではなくなりました"), "{ta}");
    assert!(
        ta.contains(&format!(
            "これからの担当: {}（主当番、電話 {b_phone}）",
            pb.name
        )),
        "{ta}"
    );
    assert!(ta.contains("cancel.ics"), "{ta}");
    let names: Vec<_> = mail_of(&a)
        .attachments()
        .map(|x| x.attachment_name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["cancel.ics"]);
    assert_itip(mail_of(&a).attachments().next().unwrap());

    // B: the new duty, who had it, and who works beside.
    let tb = mail_of(&b).body_text(0).unwrap();
    assert!(tb.contains("新しくあなたの当番になりました"), "{tb}");
    let replaced = tb.lines().find(|l| l.contains("前の担当: ")).unwrap();
    assert!(
        replaced.contains(&pa.name) && !replaced.contains(&pc.name),
        "B replaces A alone; C stays beside B:\n{tb}"
    );
    assert!(
        tb.contains(&format!("一緒に入る人: {}（副当番", pc.name)),
        "{tb}"
    );
    assert!(
        !tb.contains("cancel.ics"),
        "no cancel.ics is attached, so none is mentioned:\n{tb}"
    );
    let names: Vec<_> = mail_of(&b)
        .attachments()
        .map(|x| x.attachment_name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["duties.ics"]);

    // C: still on the shift, told who is beside them now and who was.
    let tc = mail_of(&c).body_text(0).unwrap();
    assert!(tc.contains("一緒に入る人が変わりました"), "{tc}");
    assert!(
        tc.contains(&format!("前の担当: {}（主当番", pa.name))
            && tc.contains(&format!(
                "一緒に入る人: {}（主当番、電話 {b_phone}）",
                pb.name
            )),
        "{tc}"
    );
    assert_eq!(
        mail_of(&c).attachments().count(),
        0,
        "C's duty is unchanged"
    );
    for m in &fresh {
        assert_footer(&m.body_text(0).unwrap(), true);
    }

    // The feed link in the e-mail opens that person's feed (the same
    // address in every e-mail to them).
    let url = |t: &str| {
        t.split_whitespace()
            .find(|w| w.contains("/api/v1/feeds/"))
            .unwrap()
            .to_string()
    };
    let first_a = first
        .iter()
        .map(|r| MessageParser::default().parse(r).unwrap())
        .find(|m| to_of(m) == pa.email.to_string())
        .unwrap();
    assert_eq!(url(&first_a.body_text(0).unwrap()), url(&ta));
    let token = url(&ta)
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_string();
    let caller = touban_api::auth::Verifier::new(Duration::from_secs(1))
        .verify(e.store.as_ref(), &token, true)
        .await
        .unwrap_or_else(|p| panic!("{}", p.detail));
    assert!(
        matches!(&caller.grant, touban_store::Grant::StaffFeed { staff, .. } if *staff == a),
        "{:?}",
        caller.grant
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cover_outcomes_reach_the_institution_and_the_person_who_accepted() {
    use touban_domain::OfferMode;
    let e = env().await;
    let sink = Sink::start(free_port(), &[]);
    let (smtp, cfg) = configs(sink.port);
    let w = worker(&e, smtp, cfg).await;
    let region = e.net.region.id.clone();
    let inst = e.net.institutions[0].clone();
    let request = |mode| cover_request(&e, mode);
    let reason =
        "拠点から 3.0 km、今月の当番 8.0 時間 / 3.0 km from base; 8.0 h of duty this month";
    let offer = |s: &str| offer(s, reason);
    let c = e
        .store
        .create_cover(
            &region,
            &request(OfferMode::Broadcast),
            &[offer("yamada-kenji"), offer("suzuki-akiko")],
            chrono::Utc::now() + chrono::Duration::minutes(30),
            "test",
        )
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(30)).await;
    // The offer: Japanese reason in the Japanese part, the clinic's address
    // and phone, and the work.
    let offer_mail = MessageParser::default()
        .parse(&sink.messages()[0])
        .unwrap()
        .body_text(0)
        .unwrap()
        .to_string();
    let (ja, en) = offer_mail.split_once("---- English ----").unwrap();
    assert!(ja.contains("あなたに依頼した理由: 拠点から 3.0 km"), "{ja}");
    assert!(en.contains("Why you: 3.0 km from base"), "{en}");
    assert!(
        ja.contains(&format!("電話 {}", inst.phone.as_ref().unwrap()))
            && ja.contains("仕事: 医師")
            && ja.contains("場所: 阿南町"),
        "{ja}"
    );
    assert_footer(&offer_mail, true);

    let suzuki = StaffId::parse("suzuki-akiko").unwrap();
    let ps = e.net.staff_member(&suzuki).unwrap().clone();
    e.store
        .answer_offer(c.offers[1].id, true, "test")
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(30)).await;
    let mails: Vec<_> = sink.messages();
    let parsed: Vec<Message<'_>> = mails
        .iter()
        .map(|r| MessageParser::default().parse(r).unwrap())
        .collect();
    // The institution: who comes, their phone, when.
    let filled = parsed
        .iter()
        .find(|m| m.subject().unwrap().contains("【応援決定】"))
        .expect("the institution is told the cover was found");
    assert_eq!(to_of(filled), inst.email.as_ref().unwrap().to_string());
    let t = filled.body_text(0).unwrap();
    assert!(
        t.contains(&format!("担当: {}", ps.name))
            && t.contains(&ps.phone.as_ref().unwrap().to_string())
            && t.contains("到着予定: 1月12日(火) 09:00"),
        "{t}"
    );
    assert_footer(&t, false);
    // The person who accepted: a confirmation with cover.ics, the UID of
    // their feed.
    let confirmed = parsed
        .iter()
        .find(|m| m.subject().unwrap().contains("【応援確定】"))
        .expect("a confirmation to the person who accepted");
    assert_eq!(to_of(confirmed), ps.email.to_string());
    let t = confirmed.body_text(0).unwrap();
    assert!(t.contains(&inst.name) && t.contains("外来の代診"), "{t}");
    let ics = confirmed.attachments().next().expect("cover.ics");
    assert_eq!(ics.attachment_name(), Some("cover.ics"));
    assert_itip(ics);
    let cal = calendar_of(ics);
    assert_eq!(cal.property_value("METHOD"), Some("PUBLISH"));
    let uid = touban_app::ical::cover_uid(region.as_str(), c.id, "suzuki-akiko");
    assert_eq!(cal.events().next().unwrap().get_uid(), Some(uid.as_str()));

    // Nobody can be asked: the institution hears the coordinator takes over.
    let before = sink.messages().len();
    let c2 = e
        .store
        .create_cover(
            &region,
            &request(OfferMode::OneByOne),
            &[],
            chrono::Utc::now() + chrono::Duration::minutes(30),
            "test",
        )
        .await
        .unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(30)).await;
    let mails = sink.messages();
    let unfilled = mails[before..]
        .iter()
        .map(|r| MessageParser::default().parse(r).unwrap())
        .find(|m| m.subject().unwrap().contains("【応援依頼・未決定】"))
        .map(|m| (to_of(&m), m.body_text(0).unwrap().to_string()))
        .expect("the institution is told nobody was found");
    assert_eq!(unfilled.0, inst.email.as_ref().unwrap().to_string());
    assert!(
        unfilled.1.contains("条件に合う方") && unfilled.1.contains(&format!("依頼番号 {}", c2.id)),
        "{}",
        unfilled.1
    );
    assert!(
        all(e.store.as_ref())
            .await
            .iter()
            .all(|m| m.state == MessageState::Sent)
    );
}

/// Publishing a month whose duties start within a day sends the
/// announcement at once and no reminder before or instead of it (the
/// audit: a publish at 17:21 sent "your duty tomorrow" for that evening).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_announcement_is_not_preceded_by_a_reminder() {
    let e = env().await;
    let region = e.net.region.id.clone();
    let tz = e.net.region.time_zone;
    let now = chrono::Utc::now();
    let local = now.with_timezone(&tz);
    use chrono::{Datelike, Timelike};
    // The day the scheduler reminds of now: tomorrow after the reminder
    // time, today (duties not yet begun) before it.
    let minute = local.hour() * 60 + local.minute();
    let day = if minute >= u32::from(e.net.policy.reminder_minute_of_day) {
        local.date_naive() + chrono::Duration::days(1)
    } else {
        local.date_naive()
    };
    let month = Month::new(day.year(), day.month()).unwrap();
    let cal = touban_calendar::Calendar::for_region(&e.net.region);
    let mut people = e.net.staff.iter().cycle();
    let assignments: Vec<Assignment> = e
        .net
        .services
        .iter()
        .flat_map(|s| cal.shifts(s, month))
        // Duties less than a day ahead: after the reminder time, some of
        // tomorrow's duties start more than a day from now (an evening
        // duty when it is late afternoon), and their reminder is rightly
        // sent (this test failed between the reminder time and midnight).
        .filter(|s| {
            let start = s.start.with_timezone(&chrono::Utc);
            s.date == day && start > now && start < now + chrono::Duration::hours(23)
        })
        .map(|s| Assignment {
            shift: s.key(),
            staff: people.next().unwrap().id.clone(),
            role: Role::Primary,
        })
        .collect();
    assert!(!assignments.is_empty(), "duties still to come on {day}");
    e.store
        .save_rota(&NewRota {
            region: region.clone(),
            month,
            created_by: "test".into(),
            note: None,
            based_on: None,
            assignments,
            overridden: Vec::new(),
        })
        .await
        .unwrap();
    e.store.publish_rota(&region, month, 1, "c").await.unwrap();
    let sink = Sink::start(free_port(), &[]);
    let (smtp, cfg) = configs(sink.port);
    let w = worker(&e, smtp, cfg).await;
    let queued = w.schedule(now).await.unwrap();
    drain(e.store.as_ref(), &w, Duration::from_secs(60)).await;
    let ms = all(e.store.as_ref()).await;
    let reminders: Vec<_> = ms
        .iter()
        .filter(|m| m.kind == MessageKind::Reminder)
        .collect();
    assert!(queued > 0 && !reminders.is_empty(), "reminders were queued");
    for r in &reminders {
        assert_eq!(r.state, MessageState::Cancelled, "{r:?}");
        assert!(
            r.last_error
                .as_deref()
                .is_some_and(|e| e.contains("less than a day ahead")),
            "{r:?}"
        );
    }
    let subjects: Vec<String> = sink
        .messages()
        .iter()
        .map(|r| {
            MessageParser::default()
                .parse(r)
                .unwrap()
                .subject()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        subjects.iter().all(|s| !s.contains("日の当番】")),
        "no reminder was sent: {subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("【至急】【当番】")),
        "the announcements were sent, marked urgent: {subjects:?}"
    );
}
