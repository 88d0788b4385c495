#include "pipeline/zombie_fence.h"

#include <gtest/gtest.h>

namespace cg::pipeline {
namespace {

// The next owner of a partition reads who committed it last from the offset's metadata.
TEST(ZombieFence, OwnerMetadataRoundTrips) {
  const txn_owner o{"contactgate-orders-host1", "host1"};
  const std::optional<txn_owner> back = owner_of(owner_metadata(o));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, o);
  const txn_owner dynamic{"tx-1", ""};
  ASSERT_TRUE(owner_of(owner_metadata(dynamic)).has_value());
  EXPECT_EQ(owner_of(owner_metadata(dynamic))->group_instance_id, "");
}

// Metadata that other tools (or older contactgate versions) wrote names nobody.
TEST(ZombieFence, ForeignMetadataNamesNoOwner) {
  EXPECT_FALSE(owner_of("").has_value());
  EXPECT_FALSE(owner_of("some app's metadata").has_value());
  EXPECT_FALSE(owner_of("contactgate\ntransactional.id=").has_value());
  EXPECT_FALSE(owner_of("contactgate\ntransactional.id=x").has_value());  // no instance field
  EXPECT_FALSE(owner_of("contactgate\ntransactional.id=\ngroup.instance.id=a").has_value());
  EXPECT_FALSE(owner_of("contactgate\ntransactional.id=x\ngroup.instance.id=a\nmore").has_value());
}

// The broker names a static member "<group.instance.id>-<uuid>": a member whose instance id
// merely starts the same is someone else.
TEST(ZombieFence, MembershipByStaticInstanceId) {
  const std::vector<std::string> members = {"host1-5b0d9c1e-7a43-4c55-9b5e-2d9f7f0c1a11",
                                            "contactgate-3f2e8a90-1b2c-4d5e-8f90-a1b2c3d4e5f6"};
  EXPECT_TRUE(is_member(members, "host1"));
  EXPECT_FALSE(is_member(members, "host"));    // "host1-..." is not "host-..."
  EXPECT_FALSE(is_member(members, "host12"));  // a departed member
  EXPECT_FALSE(is_member({}, "host1"));
  EXPECT_FALSE(is_member({"host1-"}, "host1"));  // no id after the dash
}

}  // namespace
}  // namespace cg::pipeline
