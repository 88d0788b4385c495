#pragma once
/// libphonenumber's metadata entry points (a serialized PhoneMetadataCollection), exported by
/// libphonenumber.so but not declared in its installed headers. The library calls them
/// through its PLT, so contactgate's own definitions (validate/phone_data.cc) take the place
/// of the library's compiled-in 8.12.57 data, for PhoneNumberUtil as for the fast validator.
/// Immutable once handed out; any thread.
namespace i18n::phonenumbers {
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers
