#include "rules/condition.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

namespace touchpoint::core::rules {

bool parse_attr_type(std::string_view name, AttrType& out) {
  if (name == "any")
    out = AttrType::Any;
  else if (name == "string")
    out = AttrType::String;
  else if (name == "number")
    out = AttrType::Number;
  else if (name == "bool")
    out = AttrType::Bool;
  else if (name == "list")
    out = AttrType::List;
  else if (name == "object")
    out = AttrType::Object;
  else
    return false;
  return true;
}

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::Any:
      return "any";
    case AttrType::String:
      return "string";
    case AttrType::Number:
      return "number";
    case AttrType::Bool:
      return "bool";
    case AttrType::List:
      return "list";
    case AttrType::Object:
      return "object";
  }
  return "any";
}

namespace {

constexpr size_t kMaxConditionBytes = 8192;
constexpr int kMaxDepth = 64;

// ---------------------------------------------------------------- values

/// A literal in the condition text.
struct Lit {
  enum class T { Null, Bool, Int, Double, String } t = T::Null;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
};

/// A value at evaluation time; views into the profile JSON or the proposal.
struct Val {
  enum class T { None, Bool, Int, Double, String, List, Object } t = T::None;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string_view s;
  const Json* j = nullptr;
};

Val from_json(const Json& j) {
  Val v;
  switch (j.type()) {
    case Json::value_t::boolean:
      v.t = Val::T::Bool;
      v.b = j.get_ref<const Json::boolean_t&>();
      break;
    case Json::value_t::number_integer:
      v.t = Val::T::Int;
      v.i = j.get_ref<const Json::number_integer_t&>();
      break;
    case Json::value_t::number_unsigned: {
      const auto u = j.get_ref<const Json::number_unsigned_t&>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) {
        v.t = Val::T::Int;
        v.i = static_cast<int64_t>(u);
      } else {
        v.t = Val::T::Double;
        v.d = static_cast<double>(u);
      }
      break;
    }
    case Json::value_t::number_float:
      v.t = Val::T::Double;
      v.d = j.get_ref<const Json::number_float_t&>();
      if (std::isnan(v.d)) v.t = Val::T::None;
      break;
    case Json::value_t::string:
      v.t = Val::T::String;
      v.s = j.get_ref<const Json::string_t&>();
      break;
    case Json::value_t::array:
      v.t = Val::T::List;
      v.j = &j;
      break;
    case Json::value_t::object:
      v.t = Val::T::Object;
      v.j = &j;
      break;
    default:
      break;  // null, binary, discarded: no value
  }
  return v;
}

Val from_lit(const Lit& l) {
  Val v;
  switch (l.t) {
    case Lit::T::Null:
      break;
    case Lit::T::Bool:
      v.t = Val::T::Bool;
      v.b = l.b;
      break;
    case Lit::T::Int:
      v.t = Val::T::Int;
      v.i = l.i;
      break;
    case Lit::T::Double:
      v.t = Val::T::Double;
      v.d = l.d;
      break;
    case Lit::T::String:
      v.t = Val::T::String;
      v.s = l.s;
      break;
  }
  return v;
}

Val from_string(const std::string& s) {
  Val v;
  if (!s.empty()) {
    v.t = Val::T::String;
    v.s = s;
  }
  return v;
}

enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };

const char* cmp_text(Cmp c) {
  switch (c) {
    case Cmp::Eq:
      return "==";
    case Cmp::Ne:
      return "!=";
    case Cmp::Lt:
      return "<";
    case Cmp::Le:
      return "<=";
    case Cmp::Gt:
      return ">";
    case Cmp::Ge:
      return ">=";
  }
  return "?";
}

template <typename T>
bool ordered(const T& a, const T& b, Cmp c) {
  switch (c) {
    case Cmp::Eq:
      return a == b;
    case Cmp::Ne:
      return a != b;
    case Cmp::Lt:
      return a < b;
    case Cmp::Le:
      return a <= b;
    case Cmp::Gt:
      return a > b;
    case Cmp::Ge:
      return a >= b;
  }
  return false;
}

bool is_num(const Val& v) { return v.t == Val::T::Int || v.t == Val::T::Double; }

/// Two-valued comparison: false when either side has no value or the types differ.
bool compare(const Val& a, const Val& b, Cmp c) {
  if (a.t == Val::T::None || b.t == Val::T::None) return false;
  if (a.t == Val::T::Int && b.t == Val::T::Int) return ordered(a.i, b.i, c);
  if (is_num(a) && is_num(b)) {
    const double x = a.t == Val::T::Int ? static_cast<double>(a.i) : a.d;
    const double y = b.t == Val::T::Int ? static_cast<double>(b.i) : b.d;
    return ordered(x, y, c);
  }
  if (a.t == Val::T::String && b.t == Val::T::String) return ordered(a.s, b.s, c);
  if (a.t == Val::T::Bool && b.t == Val::T::Bool) {
    if (c == Cmp::Eq) return a.b == b.b;
    if (c == Cmp::Ne) return a.b != b.b;
    return false;
  }
  return false;  // lists, objects, mismatched types
}

// ---------------------------------------------------------------- lexer

enum class Tok { End, Name, String, Number, LParen, RParen, LBracket, RBracket, Comma, Op };

struct Token {
  Tok t = Tok::End;
  size_t offset = 0;
  std::string_view text;  ///< source text of the token
  std::string str;        ///< decoded string literal
  Lit num;                ///< number literal
  Cmp cmp = Cmp::Eq;
};

bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token next() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
    Token t;
    t.offset = pos_;
    if (pos_ >= s_.size()) return t;
    const char c = s_[pos_];
    auto single = [&](Tok k) {
      t.t = k;
      t.text = s_.substr(pos_, 1);
      ++pos_;
      return t;
    };
    switch (c) {
      case '(':
        return single(Tok::LParen);
      case ')':
        return single(Tok::RParen);
      case '[':
        return single(Tok::LBracket);
      case ']':
        return single(Tok::RBracket);
      case ',':
        return single(Tok::Comma);
      default:
        break;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
      const bool eq = pos_ + 1 < s_.size() && s_[pos_ + 1] == '=';
      t.t = Tok::Op;
      if (c == '=' && !eq) throw ConditionError(pos_, "'=' is not an operator; use '==' to compare");
      if (c == '!' && !eq) throw ConditionError(pos_, "'!' is not an operator; use 'not'");
      if (c == '=') t.cmp = Cmp::Eq;
      if (c == '!') t.cmp = Cmp::Ne;
      if (c == '<') t.cmp = eq ? Cmp::Le : Cmp::Lt;
      if (c == '>') t.cmp = eq ? Cmp::Ge : Cmp::Gt;
      t.text = s_.substr(pos_, eq ? 2 : 1);
      pos_ += eq ? 2 : 1;
      return t;
    }
    if (c == '&' || c == '|') {
      throw ConditionError(pos_,
                           std::string("'") + c + "' is not an operator; use '" + (c == '&' ? "and" : "or") + "'");
    }
    if (c == '\'' || c == '"') return string_literal(t, c);
    if (digit(c) || (c == '-' && pos_ + 1 < s_.size() && (digit(s_[pos_ + 1]) || s_[pos_ + 1] == '.')) ||
        (c == '.' && pos_ + 1 < s_.size() && digit(s_[pos_ + 1])))
      return number(t);
    if (name_start(c)) {
      size_t end = pos_;
      while (true) {
        while (end < s_.size() && name_char(s_[end])) ++end;
        if (end < s_.size() && s_[end] == '.') {
          if (end + 1 >= s_.size() || !name_start(s_[end + 1]))
            throw ConditionError(end + 1, "expected a name after '.'");
          ++end;
          continue;
        }
        break;
      }
      t.t = Tok::Name;
      t.text = s_.substr(pos_, end - pos_);
      pos_ = end;
      return t;
    }
    throw ConditionError(pos_, "unexpected character '" + std::string(1, c) + "'");
  }

  size_t pos() const { return pos_; }

 private:
  Token string_literal(Token& t, char quote) {
    size_t i = pos_ + 1;
    std::string out;
    while (true) {
      if (i >= s_.size())
        throw ConditionError(pos_, "unterminated string (missing closing " + std::string(1, quote) + ")");
      const char c = s_[i];
      if (c == quote) break;
      if (c == '\\') {
        if (i + 1 >= s_.size()) throw ConditionError(pos_, "unterminated string");
        const char e = s_[i + 1];
        if (e == '\\' || e == '\'' || e == '"')
          out += e;
        else if (e == 'n')
          out += '\n';
        else if (e == 't')
          out += '\t';
        else
          throw ConditionError(i, "unknown escape '\\" + std::string(1, e) + "' (use \\\\, \\', \\\", \\n or \\t)");
        i += 2;
        continue;
      }
      out += c;
      ++i;
    }
    t.t = Tok::String;
    t.text = s_.substr(pos_, i + 1 - pos_);
    t.str = std::move(out);
    pos_ = i + 1;
    return t;
  }

  Token number(Token& t) {
    size_t i = pos_;
    if (s_[i] == '-') ++i;
    bool is_float = false;
    while (i < s_.size() && digit(s_[i])) ++i;
    if (i < s_.size() && s_[i] == '.') {
      is_float = true;
      ++i;
      if (i >= s_.size() || !digit(s_[i])) throw ConditionError(pos_, "malformed number");
      while (i < s_.size() && digit(s_[i])) ++i;
    }
    if (i < s_.size() && (s_[i] == 'e' || s_[i] == 'E')) {
      is_float = true;
      ++i;
      if (i < s_.size() && (s_[i] == '+' || s_[i] == '-')) ++i;
      if (i >= s_.size() || !digit(s_[i])) throw ConditionError(pos_, "malformed number");
      while (i < s_.size() && digit(s_[i])) ++i;
    }
    if (i < s_.size() && (name_char(s_[i]) || s_[i] == '.')) throw ConditionError(pos_, "malformed number");
    const std::string_view txt = s_.substr(pos_, i - pos_);
    t.t = Tok::Number;
    t.text = txt;
    if (!is_float) {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(txt.data(), txt.data() + txt.size(), v);
      if (ec == std::errc() && p == txt.data() + txt.size()) {
        t.num.t = Lit::T::Int;
        t.num.i = v;
        pos_ = i;
        return t;
      }
    }
    // Leading '.' is not accepted by from_chars; strtod-like parsing via a copy.
    std::string copy(txt);
    if (copy.rfind(".", 0) == 0) copy.insert(0, "0");
    if (copy.rfind("-.", 0) == 0) copy.insert(1, "0");
    double d = 0;
    auto [p, ec] = std::from_chars(copy.data(), copy.data() + copy.size(), d);
    if (ec != std::errc() || p != copy.data() + copy.size() || !std::isfinite(d))
      throw ConditionError(pos_, "number out of range");
    t.num.t = Lit::T::Double;
    t.num.d = d;
    pos_ = i;
    return t;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool is_keyword(std::string_view s) {
  return s == "and" || s == "or" || s == "not" || s == "in" || s == "exists" || s == "true" || s == "false" ||
         s == "null";
}

std::string lower(std::string_view s) {
  std::string o(s);
  for (char& c : o)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return o;
}

}  // namespace

// ---------------------------------------------------------------- tree

enum class Field : uint8_t { Literal, Profile, Channel, Purpose, Campaign, Offer, OfferCategory, Transactional };

struct Operand {
  Field field = Field::Literal;
  Lit lit;
  std::vector<std::string> path;  ///< profile path segments
  AttrType type = AttrType::Any;  ///< static type; Any when unknown
  size_t offset = 0;
  std::string text;  ///< as written, for messages
};

struct Condition::Node {
  enum class Op { Const, Or, And, Not, Compare, InList, InPath, Exists, Truth } op = Op::Const;
  bool value = false;  ///< Const
  Cmp cmp = Cmp::Eq;
  Operand a, b;           ///< Compare: a cmp b; InPath: a in b; InList/Exists/Truth: a
  std::vector<Lit> list;  ///< InList
  std::unique_ptr<const Node> l, r;
};

namespace {

using Node = Condition::Node;

struct EvalCtx {
  const Json& attrs;
  const Proposal& p;
  std::string_view channel;
};

Val value_of(const Operand& o, const EvalCtx& c) {
  switch (o.field) {
    case Field::Literal:
      return from_lit(o.lit);
    case Field::Profile: {
      const Json* cur = &c.attrs;
      for (const std::string& seg : o.path) {
        if (!cur->is_object()) return {};
        auto it = cur->find(seg);
        if (it == cur->end()) return {};
        cur = &*it;
      }
      return from_json(*cur);
    }
    case Field::Channel: {
      Val v;
      if (!c.channel.empty()) {
        v.t = Val::T::String;
        v.s = c.channel;
      }
      return v;
    }
    case Field::Purpose:
      return from_string(c.p.purpose);
    case Field::Campaign:
      return from_string(c.p.campaign);
    case Field::Offer:
      return from_string(c.p.offer);
    case Field::OfferCategory:
      return from_string(c.p.offer_category);
    case Field::Transactional: {
      Val v;
      v.t = Val::T::Bool;
      v.b = c.p.transactional;
      return v;
    }
  }
  return {};
}

bool eval_node(const Node& n, const EvalCtx& c) {
  switch (n.op) {
    case Node::Op::Const:
      return n.value;
    case Node::Op::Or:
      return eval_node(*n.l, c) || eval_node(*n.r, c);
    case Node::Op::And:
      return eval_node(*n.l, c) && eval_node(*n.r, c);
    case Node::Op::Not:
      return !eval_node(*n.l, c);
    case Node::Op::Compare:
      return compare(value_of(n.a, c), value_of(n.b, c), n.cmp);
    case Node::Op::InList: {
      const Val v = value_of(n.a, c);
      if (v.t == Val::T::None) return false;
      for (const Lit& l : n.list)
        if (compare(v, from_lit(l), Cmp::Eq)) return true;
      return false;
    }
    case Node::Op::InPath: {
      const Val v = value_of(n.a, c);
      const Val list = value_of(n.b, c);
      if (v.t == Val::T::None || list.t != Val::T::List) return false;
      for (const Json& e : *list.j)
        if (compare(v, from_json(e), Cmp::Eq)) return true;
      return false;
    }
    case Node::Op::Exists:
      return value_of(n.a, c).t != Val::T::None;
    case Node::Op::Truth: {
      const Val v = value_of(n.a, c);
      return v.t == Val::T::Bool && v.b;
    }
  }
  return false;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, const ConditionSchema& schema, std::vector<std::string>& used)
      : lex_(text), schema_(schema), used_(used) {
    advance();
  }

  std::unique_ptr<const Node> parse() {
    if (tok_.t == Tok::End) throw ConditionError(0, "empty condition");
    auto n = parse_or(0);
    if (tok_.t != Tok::End) {
      if (tok_.t == Tok::RParen) throw ConditionError(tok_.offset, "unmatched ')'");
      throw ConditionError(tok_.offset, "unexpected " + describe(tok_) + " (expected 'and', 'or' or the end)");
    }
    return n;
  }

 private:
  void advance() { tok_ = lex_.next(); }

  bool is_word(const Token& t, std::string_view w) const { return t.t == Tok::Name && t.text == w; }

  static std::string describe(const Token& t) {
    if (t.t == Tok::End) return "end of the condition";
    if (t.t == Tok::String) return "string " + std::string(t.text);
    return "'" + std::string(t.text) + "'";
  }

  void check_depth(int depth) const {
    if (depth > kMaxDepth) throw ConditionError(tok_.offset, "condition nested too deeply");
  }

  std::unique_ptr<const Node> parse_or(int depth) {
    check_depth(depth);
    auto l = parse_and(depth);
    while (is_word(tok_, "or")) {
      advance();
      auto n = std::make_unique<Node>();
      n->op = Node::Op::Or;
      n->l = std::move(l);
      n->r = parse_and(depth);
      l = std::move(n);
    }
    return l;
  }

  std::unique_ptr<const Node> parse_and(int depth) {
    auto l = parse_not(depth);
    while (is_word(tok_, "and")) {
      advance();
      auto n = std::make_unique<Node>();
      n->op = Node::Op::And;
      n->l = std::move(l);
      n->r = parse_not(depth);
      l = std::move(n);
    }
    return l;
  }

  std::unique_ptr<const Node> parse_not(int depth) {
    check_depth(depth);
    if (is_word(tok_, "not")) {
      advance();
      auto n = std::make_unique<Node>();
      n->op = Node::Op::Not;
      n->l = parse_not(depth + 1);
      return n;
    }
    return parse_primary(depth);
  }

  std::unique_ptr<const Node> parse_primary(int depth) {
    if (tok_.t == Tok::LParen) {
      const size_t open = tok_.offset;
      check_depth(depth + 1);
      advance();
      if (tok_.t == Tok::RParen) throw ConditionError(tok_.offset, "empty parentheses");
      auto n = parse_or(depth + 1);
      if (tok_.t != Tok::RParen)
        throw ConditionError(
            tok_.t == Tok::End ? open : tok_.offset,
            tok_.t == Tok::End ? "'(' is never closed" : "expected ')' or 'and'/'or', got " + describe(tok_));
      advance();
      return n;
    }
    if (is_word(tok_, "exists")) {
      advance();
      if (tok_.t != Tok::Name || is_keyword(tok_.text))
        throw ConditionError(tok_.offset, "expected a name after 'exists', got " + describe(tok_));
      auto n = std::make_unique<Node>();
      n->op = Node::Op::Exists;
      n->a = operand("'exists'");
      return n;
    }
    Operand a = operand("a condition");
    if (tok_.t == Tok::Op) {
      const Cmp cmp = tok_.cmp;
      const std::string op_text(tok_.text);
      advance();
      Operand b = operand("a value after '" + op_text + "'");
      return comparison(std::move(a), cmp, std::move(b));
    }
    bool negate = false;
    if (is_word(tok_, "not")) {
      // `x not in [...]`
      Lexer peek = lex_;
      Token next = peek.next();
      if (next.t == Tok::Name && next.text == "in") {
        negate = true;
        advance();
      } else {
        throw ConditionError(tok_.offset, "unexpected 'not' (did you mean 'not in'?)");
      }
    }
    if (is_word(tok_, "in")) {
      advance();
      auto n = membership(std::move(a));
      if (!negate) return n;
      auto neg = std::make_unique<Node>();
      neg->op = Node::Op::Not;
      neg->l = std::move(n);
      return neg;
    }
    return truth(std::move(a));
  }

  /// A literal or a name.
  Operand operand(const std::string& expected) {
    Operand o;
    o.offset = tok_.offset;
    o.text = std::string(tok_.text);
    switch (tok_.t) {
      case Tok::String:
        o.lit.t = Lit::T::String;
        o.lit.s = tok_.str;
        o.type = AttrType::String;
        advance();
        return o;
      case Tok::Number:
        o.lit = tok_.num;
        o.type = AttrType::Number;
        advance();
        return o;
      case Tok::Name:
        break;
      default:
        throw ConditionError(tok_.offset, "expected " + expected + ", got " + describe(tok_));
    }
    const std::string_view name = tok_.text;
    if (name == "true" || name == "false") {
      o.lit.t = Lit::T::Bool;
      o.lit.b = name == "true";
      o.type = AttrType::Bool;
      advance();
      return o;
    }
    if (name == "null") {
      o.lit.t = Lit::T::Null;
      advance();
      return o;
    }
    if (is_keyword(name))
      throw ConditionError(tok_.offset, "expected " + expected + ", got keyword '" + std::string(name) + "'");
    if (name.rfind("profile.", 0) == 0) {
      o.field = Field::Profile;
      size_t start = 8;
      while (start <= name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string_view::npos) dot = name.size();
        o.path.emplace_back(name.substr(start, dot - start));
        start = dot + 1;
      }
      resolve_attribute(o);
      advance();
      return o;
    }
    struct Known {
      const char* name;
      Field f;
      AttrType t;
    };
    static constexpr Known kFields[] = {{"channel", Field::Channel, AttrType::String},
                                        {"purpose", Field::Purpose, AttrType::String},
                                        {"campaign", Field::Campaign, AttrType::String},
                                        {"offer", Field::Offer, AttrType::String},
                                        {"offer_category", Field::OfferCategory, AttrType::String},
                                        {"transactional", Field::Transactional, AttrType::Bool}};
    const size_t dot = name.find('.');
    const std::string_view head = name.substr(0, dot);
    for (const Known& k : kFields) {
      if (head == k.name) {
        if (dot != std::string_view::npos)
          throw ConditionError(tok_.offset + dot, "'" + std::string(head) + "' has no fields");
        o.field = k.f;
        o.type = k.t;
        advance();
        return o;
      }
    }
    if (name == "profile") throw ConditionError(tok_.offset, "expected profile.<attribute>, e.g. profile.credit_score");
    if (is_keyword(lower(name)))
      throw ConditionError(tok_.offset, "keywords are lower case: use '" + lower(name) + "'");
    throw ConditionError(tok_.offset, "unknown name '" + std::string(name) +
                                          "'; profile attributes are written profile." + std::string(name) +
                                          ", proposal fields are channel, purpose, campaign, offer, "
                                          "offer_category and transactional; strings need quotes");
  }

  void resolve_attribute(Operand& o) {
    const std::string& first = o.path.front();
    if (std::find(used_.begin(), used_.end(), first) == used_.end()) used_.push_back(first);
    if (!schema_.attributes_declared) return;
    auto it = schema_.attributes.find(first);
    if (it == schema_.attributes.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : schema_.attributes) names.push_back(k);
      throw ConditionError(o.offset + 8, "unknown attribute '" + first + "' (declared under attributes: " +
                                             (names.empty() ? std::string("none") : join(names)) + ")");
    }
    if (o.path.size() > 1) {
      if (it->second != AttrType::Any && it->second != AttrType::Object)
        throw ConditionError(o.offset + 8 + first.size(),
                             "attribute '" + first + "' is a " + attr_type_name(it->second) + " and has no fields");
      o.type = AttrType::Any;
    } else {
      o.type = it->second;
    }
  }

  static bool is_null_lit(const Operand& o) { return o.field == Field::Literal && o.lit.t == Lit::T::Null; }

  /// Checks a string literal against the known channels / purposes when compared with them.
  void check_domain(const Operand& name, const Operand& value) const {
    if (value.field != Field::Literal || value.lit.t != Lit::T::String) return;
    const std::vector<std::string>* domain = nullptr;
    const char* what = nullptr;
    if (name.field == Field::Channel && !schema_.channels.empty()) {
      domain = &schema_.channels;
      what = "channel";
    } else if (name.field == Field::Purpose && !schema_.purposes.empty()) {
      domain = &schema_.purposes;
      what = "purpose";
    }
    if (domain == nullptr) return;
    if (std::find(domain->begin(), domain->end(), value.lit.s) == domain->end())
      throw ConditionError(value.offset,
                           "'" + value.lit.s + "' is not a " + what + " of this rulebook (" + join(*domain) + ")");
  }

  void check_types(const Operand& a, const Operand& b, bool ordering) const {
    for (const Operand* o : {&a, &b}) {
      if (ordering && (o->type == AttrType::Bool || o->type == AttrType::List || o->type == AttrType::Object))
        throw ConditionError(o->offset, o->text + " is a " + attr_type_name(o->type) +
                                            "; only numbers and strings can be ordered with <, <=, >, >=");
      if (!ordering && (o->type == AttrType::List || o->type == AttrType::Object))
        throw ConditionError(
            o->offset, o->text + " is a " + attr_type_name(o->type) + " and cannot be compared; use 'in' for lists");
    }
    if (a.type != AttrType::Any && b.type != AttrType::Any && a.type != b.type)
      throw ConditionError(b.offset, "cannot compare " + a.text + " (" + attr_type_name(a.type) + ") with " + b.text +
                                         " (" + attr_type_name(b.type) + ")");
  }

  std::unique_ptr<const Node> comparison(Operand a, Cmp cmp, Operand b) {
    auto n = std::make_unique<Node>();
    const bool an = is_null_lit(a), bn = is_null_lit(b);
    if (an || bn) {
      if (cmp != Cmp::Eq && cmp != Cmp::Ne)
        throw ConditionError(an ? a.offset : b.offset,
                             std::string("null can only be compared with == or !=, not ") + cmp_text(cmp));
      if (an && bn) {
        n->op = Node::Op::Const;
        n->value = cmp == Cmp::Eq;
        return n;
      }
      // x == null: x has no value; x != null: x has one.
      n->op = Node::Op::Exists;
      n->a = an ? std::move(b) : std::move(a);
      if (cmp == Cmp::Ne) return n;
      auto neg = std::make_unique<Node>();
      neg->op = Node::Op::Not;
      neg->l = std::move(n);
      return neg;
    }
    const bool ordering = cmp != Cmp::Eq && cmp != Cmp::Ne;
    check_types(a, b, ordering);
    check_domain(a, b);
    check_domain(b, a);
    n->op = Node::Op::Compare;
    n->cmp = cmp;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }

  std::unique_ptr<const Node> membership(Operand a) {
    if (is_null_lit(a)) throw ConditionError(a.offset, "null cannot be in a list; use 'exists'");
    if (a.type == AttrType::List || a.type == AttrType::Object)
      throw ConditionError(a.offset,
                           a.text + " is a " + attr_type_name(a.type) + "; only single values can be 'in' a list");
    auto n = std::make_unique<Node>();
    if (tok_.t == Tok::LBracket) {
      advance();
      n->op = Node::Op::InList;
      if (tok_.t != Tok::RBracket) {
        while (true) {
          Operand e = operand("a value in the list");
          if (e.field != Field::Literal)
            throw ConditionError(e.offset, "lists hold literal values (strings, numbers, true, false), not names");
          if (is_null_lit(e)) throw ConditionError(e.offset, "null cannot be in a list; use 'exists'");
          if (a.type != AttrType::Any && e.type != a.type)
            throw ConditionError(e.offset, "cannot compare " + a.text + " (" + attr_type_name(a.type) + ") with " +
                                               e.text + " (" + attr_type_name(e.type) + ")");
          check_domain(a, e);
          n->list.push_back(std::move(e.lit));
          if (tok_.t == Tok::Comma) {
            advance();
            continue;
          }
          if (tok_.t == Tok::RBracket) break;
          throw ConditionError(tok_.offset, "expected ',' or ']' in the list, got " + describe(tok_));
        }
      }
      advance();
      n->a = std::move(a);
      return n;
    }
    Operand list = operand("a list [..] or a list attribute after 'in'");
    if (list.field != Field::Profile)
      throw ConditionError(list.offset, "'in' needs a list [..] or a profile attribute holding a list");
    if (list.type != AttrType::Any && list.type != AttrType::List)
      throw ConditionError(list.offset, list.text + " is a " + attr_type_name(list.type) + ", not a list");
    n->op = Node::Op::InPath;
    n->a = std::move(a);
    n->b = std::move(list);
    return n;
  }

  std::unique_ptr<const Node> truth(Operand a) {
    if (a.type != AttrType::Any && a.type != AttrType::Bool)
      throw ConditionError(a.offset, a.text + " is a " + std::string(attr_type_name(a.type)) +
                                         ", not a condition; compare it (==, !=, <, ...) or test it with 'exists'");
    if (is_null_lit(a)) throw ConditionError(a.offset, "null is not a condition");
    auto n = std::make_unique<Node>();
    if (a.field == Field::Literal) {
      n->op = Node::Op::Const;
      n->value = a.lit.b;
      return n;
    }
    n->op = Node::Op::Truth;
    n->a = std::move(a);
    return n;
  }

  Lexer lex_;
  Token tok_;
  const ConditionSchema& schema_;
  std::vector<std::string>& used_;
};

}  // namespace

Condition Condition::compile(std::string_view text, const ConditionSchema& schema) {
  if (text.size() > kMaxConditionBytes)
    throw ConditionError(0, "condition is longer than " + std::to_string(kMaxConditionBytes) + " bytes");
  Condition c;
  c.text_ = std::string(text);
  Parser parser(c.text_, schema, c.attributes_used_);
  c.root_ = parser.parse();
  return c;
}

bool Condition::eval(const Json& attributes, const Proposal& p, std::string_view channel) const {
  if (!root_) return false;
  const EvalCtx ctx{attributes, p, channel};
  return eval_node(*root_, ctx);
}

}  // namespace touchpoint::core::rules
