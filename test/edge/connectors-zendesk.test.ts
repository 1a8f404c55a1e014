import { connectorContract } from "../support/fake-crms/contract.js";
import { crmFixtures } from "../support/fake-crms/fixtures.js";

connectorContract(crmFixtures.zendesk!);
