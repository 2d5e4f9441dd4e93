#pragma once
// What a citizen is told when their report changes: a short in-app notice (reporter and
// followers) and an email to the reporter who left an address. Vietnamese first, English second.
// Followers never get the tracking code: it is the reporter's key to rate the result.
#include <string>

#include "reports/report.h"

namespace ioc::reports {

struct CitizenNotice {
  std::string title;         //!< "Phản ánh PA-…: Đang xử lý"
  std::string body;          //!< the latest public step, in both languages
  std::string mail_subject;  //!< for the reporter
  std::string mail_text;     //!< for the reporter: with the tracking code and link
};

//! Vietnamese and English names of a status as a citizen reads them.
const char* statusLabelVi(Status s);
const char* statusLabelEn(Status s);

//! `public_url`: where the dashboard is reached ("https://ioc.hue.gov.vn"); "" = no link.
CitizenNotice composeNotice(const Report& r, const std::string& public_url);

//! Whether `after` differs from `before` in what the public sees (status, public timeline,
//! answer); `before` null = a new report.
bool citizenVisibleChange(const Report* before, const Report& after);

}  // namespace ioc::reports
