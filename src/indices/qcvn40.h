#pragma once
// Industrial wastewater discharge limits of QCVN 40:2011/BTNMT (Table 1, columns A and B) and the
// check of a sample against them. The table is data (data/indices/qcvn40_2011.json), not code.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace ioc::indices {

//! A: discharge into water used for drinking-water supply; B: into other receiving water.
enum class Qcvn40Column { kA, kB };

//! Bounds of one parameter in one column; a bound that is absent does not apply.
struct Qcvn40Limit {
  std::optional<double> min, max;
};

struct Qcvn40Parameter {
  std::string id;  //!< stable key used in samples, e.g. "bod5"
  std::string name_vi, name_en, unit;
  Qcvn40Limit a, b;
  //! False where the regulation fixes Cmax = C (temperature, colour, pH, coliform, ...).
  bool apply_k = true;

  const Qcvn40Limit& limit(Qcvn40Column c) const { return c == Qcvn40Column::kA ? a : b; }
};

struct Qcvn40Table {
  std::string standard;
  std::vector<Qcvn40Parameter> parameters;  //!< in table order

  //! nullptr if unknown.
  const Qcvn40Parameter* find(std::string_view id) const;
};

//! {"standard":"QCVN 40:2011/BTNMT","parameters":[{"id","name_vi","name_en","unit",
//!  "A":{"min"?,"max"?},"B":{...},"apply_k"?:bool}]}. Errors: kInvalidArgument.
core::Result<Qcvn40Table> parseQcvn40Table(const ioc::Json& j);

//! Kq (receiving water flow) and Kf (discharge flow) of QCVN 40:2011 §2; 1 when not assessed.
struct DischargeFactors {
  double kq = 1.0;
  double kf = 1.0;
};

//! Permitted bounds: the max bound is Cmax = C × Kq × Kf where apply_k, else C; the min bound
//! (pH) is never scaled.
Qcvn40Limit permittedLimit(const Qcvn40Parameter& p, Qcvn40Column column,
                           const DischargeFactors& k = {});

struct WastewaterSample {
  std::string_view parameter;  //!< a Qcvn40Parameter id
  double value;                //!< in the parameter's unit
};

enum class LimitBound { kMax, kMin };

struct Exceedance {
  std::string parameter;
  double value = 0;
  double limit = 0;  //!< the permitted bound that was crossed
  LimitBound bound = LimitBound::kMax;
  //! value / limit: > 1 above a max bound (2.0 = twice the permitted value), < 1 below a min.
  double ratio = 0;
};

//! Exceedances of `samples`, in sample order; a value equal to its bound complies. Errors
//! (kInvalidArgument): unknown parameter id, non-finite value, Kq or Kf not finite and > 0.
core::Result<std::vector<Exceedance>> wastewaterExceedances(
    const Qcvn40Table& table, Qcvn40Column column, std::span<const WastewaterSample> samples,
    const DischargeFactors& k = {});

}  // namespace ioc::indices
