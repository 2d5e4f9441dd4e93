#include "reports/notice.h"

#include <algorithm>

namespace ioc::reports {

namespace {

const Update* latestPublic(const Report& r) {
  auto it = std::find_if(r.updates.rbegin(), r.updates.rend(),
                         [](const Update& u) { return u.is_public; });
  return it == r.updates.rend() ? nullptr : &*it;
}

size_t publicSteps(const Report& r) {
  return static_cast<size_t>(std::count_if(r.updates.begin(), r.updates.end(),
                                           [](const Update& u) { return u.is_public; }));
}

}  // namespace

const char* statusLabelVi(Status s) {
  switch (s) {
    case Status::kNew:
      return "Đã tiếp nhận";
    case Status::kTriaged:
      return "Đã phân loại";
    case Status::kAssigned:
      return "Đã chuyển đơn vị xử lý";
    case Status::kInProgress:
      return "Đang xử lý";
    case Status::kResolved:
      return "Đã có kết quả xử lý";
    case Status::kClosed:
      return "Đã kết thúc";
  }
  return "";
}

const char* statusLabelEn(Status s) {
  switch (s) {
    case Status::kNew:
      return "received";
    case Status::kTriaged:
      return "triaged";
    case Status::kAssigned:
      return "assigned to an agency";
    case Status::kInProgress:
      return "in progress";
    case Status::kResolved:
      return "resolved";
    case Status::kClosed:
      return "closed";
  }
  return "";
}

CitizenNotice composeNotice(const Report& r, const std::string& public_url) {
  CitizenNotice n;
  n.title = "Phản ánh " + r.id + ": " + statusLabelVi(r.status);
  const Update* u = latestPublic(r);
  std::string said = u && !u->text.empty() ? u->text : std::string();
  n.body = std::string(statusLabelVi(r.status)) + (r.agency.empty() ? "" : " — " + r.agency) +
           (said.empty() ? "" : "\n" + said) + "\n(Report " + r.id + ": " +
           statusLabelEn(r.status) + ")";
  n.mail_subject = "[CityIOC] " + n.title;
  n.mail_text = "Phản ánh " + r.id + " của bạn: " + statusLabelVi(r.status) + ".\n";
  if (!said.empty()) n.mail_text += "\n" + said + "\n";
  n.mail_text += "\nMã theo dõi: " + r.code + "\n";
  if (!public_url.empty()) {
    n.mail_text +=
        "Xem tiến độ và đánh giá kết quả: " + public_url + "/#/portal?track=" + r.code + "\n";
  }
  n.mail_text += "\n— Your report " + r.id + " is now " + statusLabelEn(r.status) +
                 ". Tracking code " + r.code + ".\n";
  return n;
}

bool citizenVisibleChange(const Report* before, const Report& after) {
  if (before == nullptr) return true;
  return before->status != after.status || before->agency_answer != after.agency_answer ||
         publicSteps(*before) != publicSteps(after);
}

}  // namespace ioc::reports
