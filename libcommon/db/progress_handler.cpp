#include "db/progress_handler.hpp"

#include <sqlite3.h>

namespace oos::db {
namespace {

int call_tick(void* handler) {
  try {
    (*static_cast<std::function<void()>*>(handler))();
  } catch (...) {  // a progress line is never worth interrupting the statement
  }
  return 0;  // non-zero would interrupt the statement
}

}  // namespace

ProgressHandler::ProgressHandler(SQLite::Database& db, std::function<void()> tick) : m_db(db), m_tick(std::move(tick)) {
  if (m_tick) sqlite3_progress_handler(m_db.getHandle(), k_instructions, call_tick, &m_tick);
}

ProgressHandler::~ProgressHandler() {
  if (m_tick) sqlite3_progress_handler(m_db.getHandle(), 0, nullptr, nullptr);
}

}  // namespace oos::db
