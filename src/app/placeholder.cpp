#include "core/common/result.hpp"
