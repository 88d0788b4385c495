#pragma once
/// libphonenumber's compiled-in metadata (a serialized PhoneMetadataCollection). Exported by
/// libphonenumber.so but not declared in its installed headers. Immutable; any thread.
namespace i18n::phonenumbers {
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers
